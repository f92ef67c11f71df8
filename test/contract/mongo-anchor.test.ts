import { afterAll, describe } from "vitest";
import {
  createMongoAnchor,
  DEFAULT_ANCHOR_CHECKPOINT_COLLECTION,
  DEFAULT_ANCHOR_COLLECTION,
} from "../../src/adapters/anchor/mongo-anchor.js";
import type { AnchorBackend } from "../../src/ports/anchor.js";
import { mongoDatabases, perDatabase } from "../support/mongo.js";
import { steppingClock } from "../support/orchestrator.js";
import { anchorBackendContract } from "./anchor-backend.contract.js";

const mongo = await mongoDatabases("vex_anchor");
afterAll(mongo.cleanup);

describe("MongoDB anchor", () => {
  const backends = perDatabase(mongo, ({ client, dbName }) =>
    createMongoAnchor({ client, dbName, clock: steppingClock() }),
  );
  const collection = (backend: AnchorBackend) =>
    backends.resourceOf(backend).db.collection<{ _id: number }>(DEFAULT_ANCHOR_COLLECTION);
  const checkpoints = (backend: AnchorBackend) =>
    backends.resourceOf(backend).db.collection<{ _id: number }>(DEFAULT_ANCHOR_CHECKPOINT_COLLECTION);
  anchorBackendContract({
    name: `mongo (${mongo.source})`,
    ...backends,
    reopen: async (backend) => {
      const { client, dbName } = backends.resourceOf(backend);
      return createMongoAnchor({ client, dbName, clock: steppingClock(Date.UTC(2027, 0, 1)) });
    },
    tamper: async (backend, seq, change) => {
      if (change === "delete") await collection(backend).deleteOne({ _id: seq });
      else await collection(backend).updateOne({ _id: seq }, { $inc: { "entry.treeSize": 100 } });
    },
    dropCheckpoints: async (backend) => {
      await checkpoints(backend).deleteMany({});
    },
    corruptCheckpoints: async (backend) => {
      await checkpoints(backend).updateMany({}, { $set: { prevHash: "f".repeat(64) } });
    },
  });
});
