import { randomUUID } from "node:crypto";
import { startMongo } from "../support/mongo.js";
import { serverSuite } from "./server.suite.js";

const mongo = await startMongo();

/** The same end-to-end suite as on the embedded store, with MONGODB_URI set (a database of its own). */
serverSuite({
  env: async () => ({
    MONGODB_URI: `${mongo.uri.replace(/\/?(\?.*)?$/, "")}/vex_e2e_${randomUUID().slice(0, 8)}`,
  }),
  cleanup: () => mongo.stop(),
});
