import { mongoRedisBackend } from "../support/backends.js";
import { tenantIsolationSuite } from "./tenant-isolation.suite.js";

/** The same probes on MongoDB (a database of its own, dropped afterwards) with the Redis bus. */
tenantIsolationSuite(await mongoRedisBackend("vex_isolation"));
