import { afterAll, describe, expect, it } from "vitest";
import { COLLECTIONS, ensureIndexes, INDEXES } from "../../src/adapters/mongo/collections.js";
import { createMongoStore } from "../../src/adapters/mongo/mongo-store.js";
import { type MongoDatabases, mongoDatabasesOnEveryBackend, perDatabase } from "../support/mongo.js";
import { expectIndexes } from "../support/mongo-indexes.js";
import { storeContract } from "./store.contract.js";

const onEveryBackend = await mongoDatabasesOnEveryBackend("vex_test");
const mongo = onEveryBackend[0] as MongoDatabases;
afterAll(() => Promise.all(onEveryBackend.map((m) => m.cleanup())));

describe("MongoDB store", () => {
  for (const backend of onEveryBackend) {
    storeContract({
      name: `mongo (${backend.source})`,
      ...perDatabase(backend, async ({ client, dbName, db }) => {
        await ensureIndexes(db);
        return createMongoStore({ client, dbName, ownsClient: false });
      }),
    });
  }

  it("reads an AgentCompleted stored with copies of the agent and result as the lean event", async () => {
    const { client, dbName, db } = await mongo.create();
    const store = createMongoStore({ client, dbName, ownsClient: false });
    const at = new Date(Date.UTC(2026, 0, 1));
    const legacy = {
      type: "AgentCompleted",
      agent: { id: "agent-1", transcript: [] },
      result: { response: "r" },
    };
    await db
      .collection(COLLECTIONS.events)
      .insertOne({ _id: "run-1:1" as never, ...legacy, runId: "run-1", tenantId: "tenant-a", seq: 1, at });
    expect(await store.events.list("tenant-a", "run-1", 0)).toStrictEqual([
      { type: "AgentCompleted", agentId: "agent-1", runId: "run-1", tenantId: "tenant-a", seq: 1, at },
    ]);
  });

  describe("ensureIndexes", () => {
    it("creates every index of every collection, idempotently", async () => {
      const { db } = await mongo.create();
      await ensureIndexes(db);
      await ensureIndexes(db);
      for (const [collection, expected] of Object.entries(INDEXES)) {
        await expectIndexes(db, collection, expected);
      }
    });
  });
});
