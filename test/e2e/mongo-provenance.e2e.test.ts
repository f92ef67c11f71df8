import { mongoRedisBackend } from "../support/backends.js";
import { provenanceSuite } from "./provenance.suite.js";

/** The provenance suite on MongoDB (a database of its own, dropped afterwards) with the Redis bus. */
provenanceSuite(await mongoRedisBackend("vex_provenance"));
