import { mongoRedisBackend } from "../support/backends.js";
import { evolutionSuite } from "./evolution.suite.js";

/** The evolution suite on MongoDB (a database of its own, dropped afterwards) with the Redis bus. */
evolutionSuite(await mongoRedisBackend("vex_evolution"));
