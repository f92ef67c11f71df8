import { mongoRedisBackend } from "../support/backends.js";
import { budgetSuite } from "./budget.suite.js";

/** The budget suite on MongoDB (a database of its own, dropped afterwards) with Redis: BullMQ and the Redis quota. */
budgetSuite(await mongoRedisBackend("vex_budget"));
