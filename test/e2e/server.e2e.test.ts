import { serverSuite } from "./server.suite.js";

serverSuite({ env: async () => ({}) });
