import { Binary } from "mongodb";
import { afterAll, describe, expect, it } from "vitest";
import { agentToDoc, COLLECTIONS, ensureIndexes, INDEXES } from "../../src/adapters/mongo/collections.js";
import { createMongoStore } from "../../src/adapters/mongo/mongo-store.js";
import { anAgent, anAgentResult, anEvent, aTranscriptEntry } from "../fixtures/builders.js";
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

  it("stores an agent's transcript packed as one Binary, and reads one stored as documents before", async () => {
    const { client, dbName, db } = await mongo.create();
    const store = createMongoStore({ client, dbName, ownsClient: false });
    const transcript = [aTranscriptEntry(), aTranscriptEntry({ index: 1, round: 1 })];
    const agent = anAgent({ state: "COMPLETED", result: anAgentResult(), transcript });
    await store.agents.create(agent);
    const raw = await db.collection(COLLECTIONS.agents).findOne({ _id: agent.id as never });
    expect(raw?.transcript).toBeInstanceOf(Binary);
    expect(await store.agents.get(agent.tenantId, agent.id)).toStrictEqual(agent);
    const longer = [...transcript, aTranscriptEntry({ index: 2, round: 2 })];
    await store.agents.update(agent.tenantId, agent.id, { transcript: longer });
    expect((await store.agents.get(agent.tenantId, agent.id))?.transcript).toStrictEqual(longer);

    const before = anAgent({ transcript });
    await db
      .collection(COLLECTIONS.agents)
      .insertOne({ ...agentToDoc(before), transcript: [...transcript] } as never);
    expect(await store.agents.get(before.tenantId, before.id)).toStrictEqual(before);
    expect(await store.agents.listByRun(before.tenantId, before.runId)).toContainEqual(before);
  });

  it("stores an event's body packed as one Binary beside what it is found by, and reads events stored whole before", async () => {
    const { client, dbName, db } = await mongo.create();
    const store = createMongoStore({ client, dbName, ownsClient: false });
    const agent = anAgent({ runId: "run-packed" });
    const started = anEvent({ runId: "run-packed", seq: 1, body: { type: "AgentStarted", agent } });
    await store.events.append([started]);
    const raw = await db.collection(COLLECTIONS.events).findOne({ _id: "run-packed:1" as never });
    expect(raw?.body).toBeInstanceOf(Binary);
    expect(raw).toMatchObject({
      runId: "run-packed",
      tenantId: started.tenantId,
      seq: 1,
      type: "AgentStarted",
    });
    expect(raw).not.toHaveProperty("agent");

    const before = anEvent({ runId: "run-packed", seq: 2, body: { type: "AgentStarted", agent } });
    await db.collection(COLLECTIONS.events).insertOne({ _id: "run-packed:2", ...before } as never);
    expect(await store.events.list(started.tenantId, "run-packed", 0)).toStrictEqual([started, before]);
    expect(await store.events.lastSeq(started.tenantId, "run-packed")).toBe(2);
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
