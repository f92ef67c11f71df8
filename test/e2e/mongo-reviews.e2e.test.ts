import { mongoRedisBackend } from "../support/backends.js";
import { reviewsSuite } from "./reviews.suite.js";

/** Human review gates on MongoDB (FerretDB unless MONGODB_URI is set) with Redis and BullMQ. */
reviewsSuite(() => mongoRedisBackend("vex_reviews"));
