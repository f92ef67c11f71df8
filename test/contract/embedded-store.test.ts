import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { deflateRawSync } from "node:zlib";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { createApiKeyFileStore } from "../../src/adapters/embedded/api-key-file-store.js";
import { createEmbeddedStore } from "../../src/adapters/embedded/embedded-store.js";
import { MIGRATIONS, SCHEMA_VERSION } from "../../src/adapters/embedded/schema.js";
import {
  decodeDoc,
  EMBEDDED_DB_FILE,
  type EmbeddedDatabase,
  encodeDoc,
  openEmbeddedDatabase,
} from "../../src/adapters/embedded/sqlite.js";
import { encodeEvent } from "../../src/adapters/embedded/sqlite-codec.js";
import type { Agent, Run } from "../../src/domain/run.js";
import type { Store } from "../../src/ports/stores.js";
import { anAgent, anAgentResult, anEvent, aRun, aTranscriptEntry } from "../fixtures/builders.js";
import { expectAppError } from "../support/assertions.js";
import { perDataDir, withDataDir } from "../support/data-dirs.js";
import { storeContract } from "./store.contract.js";

storeContract({ name: "embedded SQLite (in memory)", create: () => createEmbeddedStore({ dataDir: null }) });

storeContract({
  name: "embedded SQLite (file)",
  ...perDataDir((dataDir) => createEmbeddedStore({ dataDir })),
});

describe("embedded store failures", () => {
  it("refuses a database file that is not one with STORE_UNAVAILABLE naming the file", async () => {
    await withDataDir(async (dataDir) => {
      await writeFile(join(dataDir, EMBEDDED_DB_FILE), "this is not a database, just some text ".repeat(200));
      const error = await expectAppError(createEmbeddedStore({ dataDir }), "STORE_UNAVAILABLE");
      expect(error.message).toContain(join(dataDir, EMBEDDED_DB_FILE));
      expect(error.message).toContain("VEX_DATA_DIR");
    });
  });

  it("refuses a corrupt API key file with STORE_UNAVAILABLE naming it, not a raw SyntaxError", async () => {
    await withDataDir(async (dataDir) => {
      const path = join(dataDir, "api-keys.json");
      await writeFile(path, "[{ half a key");
      const keys = await createApiKeyFileStore(path);
      const error = await expectAppError(keys.hasActiveKeys(), "STORE_UNAVAILABLE");
      expect(error.message).toContain(path);
      await writeFile(path, '{"not": "a list"}');
      await expectAppError(keys.findByHash("x"), "STORE_UNAVAILABLE");
    });
  });

  it("answers STORE_UNAVAILABLE once closed, for reads, writes and ping", async () => {
    const store = await createEmbeddedStore({ dataDir: null });
    await store.close();
    await expectAppError(store.ping(), "STORE_UNAVAILABLE");
    await expectAppError(store.runs.get("tenant-a", "run-1"), "STORE_UNAVAILABLE");
    await expectAppError(store.runs.create(aRun()), "STORE_UNAVAILABLE");
  });
});

/** A record as the codec wrote it before dictionaries: JSON with `{"$$date": ms}` for dates. */
const oldJson = (value: unknown): string =>
  JSON.stringify(value, function (this: Record<string, unknown>, key, v) {
    const raw = this[key];
    return raw instanceof Date ? { $$date: raw.getTime() } : v;
  });

/** The schema version before documents were deflated with dictionaries. */
/** The store on `dataDir`'s database (opened, so migrated, first), then both closed. */
const withStoreOn = async (
  dataDir: string,
  use: (opened: { store: Store; database: EmbeddedDatabase }) => Promise<void>,
): Promise<void> => {
  const database = openEmbeddedDatabase({ dataDir });
  const store = await createEmbeddedStore({ database });
  try {
    await use({ store, database });
  } finally {
    await store.close();
    await database.close();
  }
};

/** A database as a server of `version` left it: that version's migrations and no later one. */
const databaseAtVersion = (dataDir: string, version: number) => {
  const db = new Database(join(dataDir, EMBEDDED_DB_FILE));
  db.pragma("journal_mode = WAL");
  for (const migration of MIGRATIONS.slice(0, version)) db.exec(migration);
  db.pragma(`user_version = ${version}`);
  return db;
};

/** An agent's row as versions before 5 wrote it: the whole agent in `doc`. */
const insertAgentRow = (db: Database.Database, agent: Agent, doc: string | Buffer) =>
  db
    .prepare(
      "INSERT INTO agents (id, tenant_id, run_id, role, ordinal, created_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .run(agent.id, agent.tenantId, agent.runId, agent.role, agent.ordinal, agent.createdAt.getTime(), doc);

const PREVIOUS_SCHEMA_VERSION = 3;

describe("embedded store rows written before dictionary compression (schema version 3)", () => {
  it("migrates, then reads runs, agents and events stored as JSON text or plain deflate, with events' run, tenant and seq in the document", async () => {
    await withDataDir(async (dataDir) => {
      const run = aRun({ id: "run-old", tenantId: "tenant-a" });
      const agent = anAgent({
        runId: run.id,
        state: "COMPLETED",
        result: anAgentResult(),
        transcript: [aTranscriptEntry()],
      });
      const started = anEvent({ runId: run.id, seq: 1 });
      const agentStarted = anEvent({
        runId: run.id,
        seq: 2,
        body: { type: "AgentStarted", agentId: agent.id },
      });
      // A database of schema version 3, the last before dictionary compression.
      const db = databaseAtVersion(dataDir, PREVIOUS_SCHEMA_VERSION);
      db.prepare("INSERT INTO runs (id, tenant_id, status, created_at, doc) VALUES (?, ?, ?, ?, ?)").run(
        run.id,
        run.tenantId,
        run.status,
        run.createdAt.getTime(),
        oldJson(run),
      );
      insertAgentRow(db, agent, deflateRawSync(oldJson(agent)));
      const insertEvent = db.prepare("INSERT INTO events (run_id, seq, tenant_id, doc) VALUES (?, ?, ?, ?)");
      insertEvent.run(run.id, 1, started.tenantId, oldJson(started));
      // Stored as events were then: an AgentStarted carried its agent; it reads as naming it.
      const storedThen = { ...agentStarted, agentId: undefined, agent };
      insertEvent.run(run.id, 2, agentStarted.tenantId, deflateRawSync(oldJson(storedThen)));
      db.close();

      await withStoreOn(dataDir, async ({ store, database }) => {
        expect(database.db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
        expect(await store.runs.get(run.tenantId, run.id)).toEqual(run);
        expect(await store.agents.listByRun(agent.tenantId, run.id)).toEqual([agent]);
        expect(await store.events.list(run.tenantId, run.id, 0)).toEqual([started, agentStarted]);
        // Rewritten in today's form, the same records read back the same.
        await store.agents.update(agent.tenantId, agent.id, { fitness: agent.fitness });
        expect(await store.agents.get(agent.tenantId, agent.id)).toEqual(agent);
        const next = anEvent({ runId: run.id, seq: 3 });
        await store.events.append([next]);
        expect(await store.events.list(run.tenantId, run.id, 0)).toEqual([started, agentStarted, next]);
      });
    });
  });
});

/** The last schema version that kept an agent's transcript inside its document. */
const TRANSCRIPT_IN_DOC_VERSION = 4;

describe("embedded store agents written with their transcript in the document (schema version 4)", () => {
  it("migrates, reads them the same, and moves the transcript to its column only when a patch replaces it", async () => {
    await withDataDir(async (dataDir) => {
      const transcript = [aTranscriptEntry(), aTranscriptEntry({ index: 1 })];
      const agent = anAgent({ state: "COMPLETED", result: anAgentResult(), transcript });
      const db = databaseAtVersion(dataDir, TRANSCRIPT_IN_DOC_VERSION);
      insertAgentRow(db, agent, encodeDoc(agent, "agent"));
      db.close();

      await withStoreOn(dataDir, async ({ store, database }) => {
        const stored = () =>
          database.db.prepare("SELECT doc, transcript FROM agents WHERE id = ?").get(agent.id) as {
            doc: Buffer | string;
            transcript: Buffer | string | null;
          };
        expect(await store.agents.get(agent.tenantId, agent.id)).toEqual(agent);
        // A page reads the transcript from the document too (it has no column to read it from).
        expect((await store.agents.list(agent.tenantId, { first: 1 })).items).toEqual([agent]);
        // A patch without a transcript leaves it where it is.
        await store.agents.update(agent.tenantId, agent.id, { fitness: 0.5 });
        expect(stored().transcript).toBeNull();
        expect(await store.agents.get(agent.tenantId, agent.id)).toEqual({ ...agent, fitness: 0.5 });
        // A patch that replaces it writes it to its column, and the document no longer holds it.
        const longer = [...transcript, aTranscriptEntry({ index: 2 })];
        await store.agents.update(agent.tenantId, agent.id, { transcript: longer });
        expect(stored().transcript).not.toBeNull();
        expect(await store.agents.listByRun(agent.tenantId, agent.runId)).toEqual([
          { ...agent, fitness: 0.5, transcript: longer },
        ]);
        expect((await store.agents.list(agent.tenantId, { first: 1 })).items).toEqual([
          { ...agent, fitness: 0.5, transcript: longer },
        ]);
        const { transcript: _inColumn, ...withoutTranscript } = agent;
        expect(Object.keys(decodeDoc<object>(stored().doc))).toStrictEqual(
          Object.keys({ ...withoutTranscript, fitness: 0.5 }),
        );
      });
    });
  });
});

/** The last schema version that kept an agent's state only inside its document. */
const STATE_IN_DOC_VERSION = 5;

describe("embedded store agents written with their state only in the document (schema version 5)", () => {
  it("migrates, reads them the same, writes a change of the state alone to its column, and keeps it through later patches", async () => {
    await withDataDir(async (dataDir) => {
      const transcript = [aTranscriptEntry()];
      const agent = anAgent({ state: "RUNNING", transcript });
      const { transcript: _inColumn, ...withoutTranscript } = agent;
      const db = databaseAtVersion(dataDir, STATE_IN_DOC_VERSION);
      db.prepare(
        "INSERT INTO agents (id, tenant_id, run_id, role, ordinal, created_at, doc, transcript) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      ).run(
        agent.id,
        agent.tenantId,
        agent.runId,
        agent.role,
        agent.ordinal,
        agent.createdAt.getTime(),
        encodeDoc(withoutTranscript, "agent"),
        encodeDoc(transcript, "agent"),
      );
      db.close();

      await withStoreOn(dataDir, async ({ store, database }) => {
        expect(database.db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
        const stored = () =>
          database.db.prepare("SELECT doc, state FROM agents WHERE id = ?").get(agent.id) as {
            doc: Buffer | string;
            state: string | null;
          };
        expect(stored().state).toBeNull();
        expect(await store.agents.get(agent.tenantId, agent.id)).toEqual(agent);
        // The state alone: its column changes, the document does not.
        const docBefore = stored().doc;
        await store.agents.update(agent.tenantId, agent.id, { state: "DEBATING" });
        expect(stored()).toEqual({ doc: docBefore, state: "DEBATING" });
        expect(await store.agents.get(agent.tenantId, agent.id)).toEqual({ ...agent, state: "DEBATING" });
        expect(await store.agents.listByRun(agent.tenantId, agent.runId)).toEqual([
          { ...agent, state: "DEBATING" },
        ]);
        // Another tenant's id behaves like a missing one.
        await expectAppError(store.agents.update("tenant-other", agent.id, { state: "FAILED" }), "NOT_FOUND");
        // A patch of other fields rewrites the document with the column's state, and keeps the column.
        await store.agents.update(agent.tenantId, agent.id, { fitness: 0.25 });
        expect(stored().state).toBe("DEBATING");
        expect(decodeDoc<Agent>(stored().doc).state).toBe("DEBATING");
        expect(await store.agents.get(agent.tenantId, agent.id)).toEqual({
          ...agent,
          state: "DEBATING",
          fitness: 0.25,
        });
        await store.agents.update(agent.tenantId, agent.id, { state: "COMPLETED", fitness: 0.5 });
        expect(stored().state).toBe("COMPLETED");
        expect(await store.agents.get(agent.tenantId, agent.id)).toEqual({
          ...agent,
          state: "COMPLETED",
          fitness: 0.5,
        });
      });
    });
  });
});

/** The last schema version whose events were a rowid table with a separate primary-key index. */
const ROWID_EVENTS_VERSION = 6;

describe("embedded store events in a rowid table (schema version 6)", () => {
  it("migrates them, every one as it was, to a table clustered by run and seq, and appends after them", async () => {
    await withDataDir(async (dataDir) => {
      const runs = ["run-b", "run-a"];
      const events = runs.flatMap((runId) =>
        [1, 2, 3].map((seq) =>
          anEvent({ runId, seq, body: { type: "RunStarted", query: `${runId} ${seq}` } }),
        ),
      );
      const db = databaseAtVersion(dataDir, ROWID_EVENTS_VERSION);
      const insert = db.prepare("INSERT INTO events (run_id, seq, tenant_id, doc) VALUES (?, ?, ?, ?)");
      // Stored out of order, as concurrent runs interleave.
      for (const e of [...events].reverse()) insert.run(e.runId, e.seq, e.tenantId, encodeEvent(e));
      const before = db.prepare("SELECT run_id, seq, tenant_id, doc FROM events ORDER BY run_id, seq").all();
      db.close();

      await withStoreOn(dataDir, async ({ store, database }) => {
        expect(database.db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
        expect(database.db.prepare("SELECT run_id, seq, tenant_id, doc FROM events").all()).toEqual(before);
        const table = database.db.prepare("SELECT sql FROM sqlite_schema WHERE name = 'events'").get() as {
          sql: string;
        };
        expect(table.sql).toMatch(/WITHOUT ROWID/);
        expect(
          database.db
            .prepare("SELECT name FROM sqlite_schema WHERE tbl_name = 'events' AND type = 'index'")
            .all(),
        ).toEqual([]);
        for (const runId of runs) {
          expect(await store.events.list("tenant-a", runId, 0)).toEqual(
            events.filter((e) => e.runId === runId),
          );
          expect(await store.events.lastSeq("tenant-a", runId)).toBe(3);
        }
        const next = anEvent({ runId: "run-a", seq: 4 });
        await store.events.append([next]);
        await expectAppError(store.events.append([anEvent({ runId: "run-a", seq: 4 })]), "CONFLICT");
        expect((await store.events.list("tenant-a", "run-a", 2)).map((e) => e.seq)).toEqual([3, 4]);
      });
    });
  });
});

describe("embedded store: events and the changes they announce", () => {
  it("writes them in one transaction: a refused event leaves the changes unapplied", async () => {
    const store = await createEmbeddedStore({ dataDir: null });
    try {
      const run = aRun({ tenantId: "tenant-a", status: "RUNNING" });
      await store.runs.create(run);
      const first = anEvent({ runId: run.id, seq: 1 });
      await store.events.append([first]);
      const agent = anAgent({ tenantId: "tenant-a", runId: run.id });
      await expectAppError(
        store.events.append(
          [anEvent({ runId: run.id, seq: 1, body: { type: "AgentStarted", agentId: agent.id } })],
          [
            { kind: "createAgent", agent },
            { kind: "updateRun", tenantId: "tenant-a", id: run.id, patch: { status: "FAILED" } },
          ],
        ),
        "CONFLICT",
      );
      expect(await store.agents.get("tenant-a", agent.id)).toBeNull();
      expect(await store.runs.get("tenant-a", run.id)).toEqual(run);
      expect(await store.events.list("tenant-a", run.id, 0)).toEqual([first]);
    } finally {
      await store.close();
    }
  });
});

describe("embedded store: agents decoded once and read again", () => {
  it("serves every read its own copy, as stored now: a rewrite, a state change and a page all tell", async () => {
    const store = await createEmbeddedStore({ dataDir: null });
    try {
      const agent = anAgent({
        tenantId: "tenant-a",
        state: "RUNNING",
        fitness: 0.25,
        transcript: [aTranscriptEntry(), aTranscriptEntry()],
      });
      await store.agents.create(agent);
      const first = (await store.agents.get("tenant-a", agent.id)) as Agent;
      const again = (await store.agents.get("tenant-a", agent.id)) as Agent;
      expect(again).toEqual(agent);
      expect(again).not.toBe(first);
      // A caller's copy is its own at the top; what it shares with other reads cannot be changed.
      (again as { fitness: number }).fitness = 0.9;
      expect(() => {
        (again.genome.traits as { precision: number }).precision = 0;
      }).toThrow(TypeError);
      expect(await store.agents.get("tenant-a", agent.id)).toEqual(agent);

      // The state has a column of its own: a change of it alone shows on the next read.
      await store.agents.update("tenant-a", agent.id, { state: "DEBATING" });
      expect((await store.agents.get("tenant-a", agent.id))?.state).toBe("DEBATING");
      // A rewritten document is decoded afresh, in a page as by id.
      await store.agents.update("tenant-a", agent.id, { fitness: 0.75, state: "COMPLETED" });
      const [listed] = (await store.agents.list("tenant-a", { first: 1 })).items;
      // A page reads transcripts only when used: this one is read by the comparison.
      expect(listed).toEqual({ ...agent, fitness: 0.75, state: "COMPLETED" });
      expect(await store.agents.get("tenant-a", agent.id)).toEqual(listed);
    } finally {
      await store.close();
    }
  });
});

describe("embedded store: runs decoded once and read again", () => {
  it("serves every read its own copy, as stored now, by id, in a page and by status", async () => {
    const store = await createEmbeddedStore({ dataDir: null });
    try {
      const run = aRun({ tenantId: "tenant-a", status: "PENDING" });
      await store.runs.create(run);
      const first = (await store.runs.get("tenant-a", run.id)) as Run;
      const again = (await store.runs.get("tenant-a", run.id)) as Run;
      expect(again).toEqual(run);
      expect(again).not.toBe(first);
      (again as { status: string }).status = "FAILED";
      expect(() => {
        (again.config as { maxDepth: number }).maxDepth = 9;
      }).toThrow(TypeError);
      expect(await store.runs.get("tenant-a", run.id)).toEqual(run);

      await store.runs.transition("tenant-a", run.id, ["PENDING"], { status: "RUNNING" });
      const running = { ...run, status: "RUNNING" };
      expect(await store.runs.get("tenant-a", run.id)).toEqual(running);
      expect((await store.runs.list("tenant-a", { first: 1 })).items).toEqual([running]);
      expect(await store.runs.findByStatus(["RUNNING"])).toEqual([running]);
    } finally {
      await store.close();
    }
  });
});

describe("embedded store: documents under way", () => {
  it("keeps a run's and an agent's document as text while they are under way, and deflates it once they end", async () => {
    await withDataDir(async (dataDir) => {
      await withStoreOn(dataDir, async ({ store, database }) => {
        const stored = (table: "runs" | "agents", id: string) =>
          (
            database.db.prepare(`SELECT typeof(doc) AS type FROM ${table} WHERE id = ?`).get(id) as {
              type: string;
            }
          ).type;
        const run = aRun({ tenantId: "tenant-a", status: "PENDING" });
        await store.runs.create(run);
        expect(stored("runs", run.id)).toBe("text");
        await store.runs.transition("tenant-a", run.id, ["PENDING"], {
          status: "RUNNING",
          startedAt: new Date(),
        });
        expect(stored("runs", run.id)).toBe("text");
        const agent = anAgent({ tenantId: "tenant-a", runId: run.id, state: "RUNNING" });
        await store.agents.create(agent);
        expect(stored("agents", agent.id)).toBe("text");
        await store.agents.update("tenant-a", agent.id, { state: "DEBATING" });
        const result = anAgentResult();
        await store.agents.update("tenant-a", agent.id, {
          state: "COMPLETED",
          result,
          fitness: result.confidence,
        });
        expect(stored("agents", agent.id)).toBe("blob");
        await store.runs.update("tenant-a", run.id, { status: "SUCCEEDED", completedAt: new Date() });
        expect(stored("runs", run.id)).toBe("blob");
        // Read back the same either way.
        expect(await store.agents.get("tenant-a", agent.id)).toEqual({
          ...agent,
          state: "COMPLETED",
          result,
          fitness: result.confidence,
        });
        expect((await store.runs.get("tenant-a", run.id))?.status).toBe("SUCCEEDED");
      });
    });
  });
});
