import { afterAll, describe, expect, it } from "vitest";
import {
  createMongoAnchor,
  DEFAULT_ANCHOR_CHECKPOINT_COLLECTION,
  DEFAULT_ANCHOR_COLLECTION,
} from "../../src/adapters/anchor/mongo-anchor.js";
import { type AnchorReceipt, DEFAULT_ANCHOR_CHECKPOINT_INTERVAL } from "../../src/domain/anchor.js";
import type { AnchorBackend } from "../../src/ports/anchor.js";
import { anAnchorEntry } from "../fixtures/provenance-builders.js";
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

describe("MongoDB anchor checkpoints with two servers", () => {
  it("two servers appending past a checkpoint store it once, with the hash the next record links to", async () => {
    const { client, dbName, db } = await mongo.create();
    const servers = [0, 1].map((i) =>
      createMongoAnchor({ client, dbName, clock: steppingClock(Date.UTC(2026, 0, 1 + i)) }),
    );
    const each = DEFAULT_ANCHOR_CHECKPOINT_INTERVAL / 2 + 4;
    const receipts = (
      await Promise.all(
        servers.map(async (server) => {
          const mine: AnchorReceipt[] = [];
          for (let i = 0; i < each; i++) mine.push(await server.anchor(anAnchorEntry()));
          return mine;
        }),
      )
    )
      .flat()
      .sort((a, b) => a.seq - b.seq);
    expect(receipts.map((r) => r.seq)).toStrictEqual(receipts.map((_, i) => i));
    const stored = await db
      .collection<{ _id: number; prevHash: string }>(DEFAULT_ANCHOR_CHECKPOINT_COLLECTION)
      .find()
      .toArray();
    const at = DEFAULT_ANCHOR_CHECKPOINT_INTERVAL;
    expect(stored).toStrictEqual([{ _id: at, prevHash: receipts[at - 1]!.recordHash }]);
    const reader = createMongoAnchor({ client, dbName, clock: steppingClock() });
    for (const r of receipts) expect(await reader.verify(r)).toStrictEqual({ valid: true, reason: null });
    await mongo.drop({ dbName });
  });
});
