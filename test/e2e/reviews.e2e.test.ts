import { embeddedBackend } from "../support/backends.js";
import { reviewsSuite } from "./reviews.suite.js";

/** Human review gates on the embedded SQLite store with the in-process queue. */
reviewsSuite(async () => embeddedBackend());
