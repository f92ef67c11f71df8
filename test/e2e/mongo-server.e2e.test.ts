import { mongoRedisBackend } from "../support/backends.js";
import { serverSuite } from "./server.suite.js";

const backend = await mongoRedisBackend("vex_e2e");

/**
 * The same end-to-end suite as on the embedded store, with MONGODB_URI set (a database of its own,
 * dropped afterwards) and the Redis bus.
 */
serverSuite({ env: () => backend.env(), cleanup: () => backend.cleanup() });
