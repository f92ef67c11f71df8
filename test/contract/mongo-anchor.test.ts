import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe } from "vitest";
import { createMongoAnchor } from "../../src/adapters/anchor/mongo-anchor.js";
import type { AnchorBackend } from "../../src/ports/anchor.js";
import { startMongoOrSkip } from "../support/mongo.js";
import { steppingClock } from "../support/orchestrator.js";
import { anchorBackendContract } from "./anchor-backend.contract.js";

const mongo = await startMongoOrSkip("the MongoDB anchor contract");

let dbCounter = 0;
const uniqueDbName = (): string =>
  `vex_anchor_${process.pid}_${Date.now().toString(36)}_${(++dbCounter).toString().padStart(3, "0")}`;

describe.skipIf(mongo === null)("MongoDB anchor", () => {
  let client: MongoClient;
  beforeAll(async () => {
    client = new MongoClient(mongo?.uri ?? "", { serverSelectionTimeoutMS: 10_000 });
    await client.connect();
  });
  afterAll(async () => {
    await client?.close();
    await mongo?.stop();
  });

  const dbNames = new WeakMap<AnchorBackend, string>();
  const collection = (backend: AnchorBackend) =>
    client.db(dbNames.get(backend)).collection<{ _id: number }>("anchors");
  anchorBackendContract({
    name: `mongo (${mongo?.source})`,
    create: async () => {
      const dbName = uniqueDbName();
      const backend = createMongoAnchor({ client, dbName, clock: steppingClock() });
      dbNames.set(backend, dbName);
      return backend;
    },
    reopen: async (backend) => {
      const dbName = dbNames.get(backend) ?? "";
      return createMongoAnchor({ client, dbName, clock: steppingClock(Date.UTC(2027, 0, 1)) });
    },
    tamper: async (backend, seq, change) => {
      if (change === "delete") await collection(backend).deleteOne({ _id: seq });
      else await collection(backend).updateOne({ _id: seq }, { $inc: { "entry.treeSize": 100 } });
    },
    destroy: async (backend) => {
      await backend.close();
      const dbName = dbNames.get(backend);
      if (dbName !== undefined) await client.db(dbName).dropDatabase();
    },
  });
});
