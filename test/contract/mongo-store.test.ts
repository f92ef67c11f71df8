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

  it("reads events stored with copies of the records they announce as the events naming them", async () => {
    const { client, dbName, db } = await mongo.create();
    const store = createMongoStore({ client, dbName, ownsClient: false });
    const at = new Date(Date.UTC(2026, 0, 1));
    const envelope = (seq: number) => ({
      _id: `run-1:${seq}` as never,
      runId: "run-1",
      tenantId: "tenant-a",
      seq,
      at,
    });
    const receipt = { backend: "file", recordHash: "ab".repeat(32), anchorId: "anchors.jsonl#0", seq: 0 };
    await db.collection(COLLECTIONS.events).insertMany([
      { ...envelope(1), type: "AgentStarted", agent: { id: "agent-1", transcript: [] } },
      {
        ...envelope(2),
        type: "AgentCompleted",
        agent: { id: "agent-1", transcript: [] },
        result: { response: "r" },
      },
      { ...envelope(3), type: "AnchorRecorded", receipt },
    ]);
    const named = (seq: number) => ({ runId: "run-1", tenantId: "tenant-a", seq, at });
    expect(await store.events.list("tenant-a", "run-1", 0)).toStrictEqual([
      { type: "AgentStarted", agentId: "agent-1", ...named(1) },
      { type: "AgentCompleted", agentId: "agent-1", ...named(2) },
      { type: "AnchorRecorded", backend: "file", recordHash: receipt.recordHash, ...named(3) },
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
    const error = { code: "LLM_TIMEOUT", message: "timed out" } as const;
    const failed = anEvent({ runId: "run-packed", seq: 1, body: { type: "AgentFailed", agent, error } });
    await store.events.append([failed]);
    const raw = await db.collection(COLLECTIONS.events).findOne({ _id: "run-packed:1" as never });
    expect(raw?.body).toBeInstanceOf(Binary);
    expect(raw).toMatchObject({
      runId: "run-packed",
      tenantId: failed.tenantId,
      seq: 1,
      type: "AgentFailed",
    });
    expect(raw).not.toHaveProperty("agent");

    const before = anEvent({ runId: "run-packed", seq: 2, body: { type: "AgentFailed", agent, error } });
    await db.collection(COLLECTIONS.events).insertOne({ _id: "run-packed:2", ...before } as never);
    expect(await store.events.list(failed.tenantId, "run-packed", 0)).toStrictEqual([failed, before]);
    expect(await store.events.lastSeq(failed.tenantId, "run-packed")).toBe(2);
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
