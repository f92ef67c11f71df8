import type { RunEvent } from "../../domain/events.js";
import { type Agent, isTerminal, type Run } from "../../domain/run.js";
import type { AgentStore, EventStore, RunStore, StateChange, Store } from "../../ports/stores.js";
import { applyPatch, currentEventShape } from "../shared/documents.js";
import {
  conflict,
  insertEventsOrConflict,
  insertOrConflict,
  notFound,
  unavailable,
} from "../shared/guard.js";
import { AGENT_COLUMNS, type AgentRow, createAgentRows, LISTED_AGENT_COLUMNS } from "./agent-rows.js";
import { createDecodedDocuments } from "./decoded-documents.js";
import {
  databaseOf,
  decodeDoc,
  type EmbeddedOptions,
  encodeDoc,
  guardFor,
  isUniqueViolation,
} from "./sqlite.js";
import { encodeEvent, type StoredDoc } from "./sqlite-codec.js";
import { placeholders, readPage, statementCache } from "./statements.js";

export type { EmbeddedOptions as EmbeddedStoreOptions } from "./sqlite.js";

const STORE = "embedded store";
const guard = guardFor(STORE);

/** Decoded run documents kept for reading again. @default 256 (the runs under way and a few pages; ~2 KiB each) */
export const DECODED_RUNS_KEPT = 256;

type Row = { doc: StoredDoc };
type RunRow = Row & { id: string };
type EventRow = Row & { run_id: string; seq: number; tenant_id: string };
/** A run's document: deflated once the run has ended; as text while its row will be written again. */
const encodeRun = (run: Run): StoredDoc => encodeDoc(run, isTerminal(run.status) ? "run" : "rewritten");

const decodeEvent = (r: EventRow): RunEvent =>
  currentEventShape({
    ...decodeDoc<RunEvent>(r.doc),
    runId: r.run_id,
    tenantId: r.tenant_id,
    seq: r.seq,
  });

/**
 * The default store, on the embedded SQLite database (see sqlite.ts). Runs and agents are a JSON
 * document each with indexed columns for tenant, status, run, role and creation time; events are
 * keyed by (run, seq). Every read but `runs.findByStatus` is scoped by tenant: another tenant's id
 * behaves exactly like a missing one.
 */
export const createEmbeddedStore = async (options: EmbeddedOptions): Promise<Store> => {
  const { database, release } = await guard(() => databaseOf(options));
  const { db } = database;
  const sql = statementCache(db);

  const insertRun = (run: Run) => {
    const { id, tenantId, status, createdAt } = run;
    sql("INSERT INTO runs (id, tenant_id, status, created_at, doc) VALUES (?, ?, ?, ?, ?)").run(
      id,
      tenantId,
      status,
      createdAt.getTime(),
      encodeRun(run),
    );
  };
  const runDocument = createDecodedDocuments<Run>(DECODED_RUNS_KEPT);
  const decodeRun = (row: RunRow): Run => runDocument(row.id, row.doc);
  const readRun = (tenantId: string, id: string): Run | null => {
    const row = sql("SELECT id, doc FROM runs WHERE id = ? AND tenant_id = ?").get(id, tenantId) as
      | RunRow
      | undefined;
    return row === undefined ? null : decodeRun(row);
  };
  const writeRun = (run: Run) =>
    sql("UPDATE runs SET status = ?, doc = ? WHERE id = ?").run(run.status, encodeRun(run), run.id);
  // Read, merge and write in one immediate transaction: atomic against every other connection.
  const patchRun = db.transaction((tenantId: string, id: string, patch: object, from?: readonly string[]) => {
    const run = readRun(tenantId, id);
    if (run === null || (from !== undefined && !from.includes(run.status))) return null;
    const next = applyPatch(run, patch);
    writeRun(next);
    return next;
  });

  const runs: RunStore = {
    create: (run) =>
      guard(() => insertOrConflict(async () => insertRun(run), isUniqueViolation, "Run", run.id)),
    update: (tenantId, id, patch) =>
      guard(() => {
        if (patchRun.immediate(tenantId, id, patch) === null) throw notFound("Run", id);
      }),
    transition: (tenantId, id, from, patch) => guard(() => patchRun.immediate(tenantId, id, patch, from)),
    get: (tenantId, id) => guard(() => readRun(tenantId, id)),
    list: (tenantId, page, filter) =>
      guard(() => {
        const conditions = ["tenant_id = ?"];
        const params: unknown[] = [tenantId];
        const where = (condition: string, value: unknown) => {
          conditions.push(condition);
          params.push(value);
        };
        if (filter?.status !== undefined) where("status = ?", filter.status);
        // A window of creation times stays on the (tenant, created_at) index.
        if (filter?.createdFrom !== undefined) where("created_at >= ?", filter.createdFrom.getTime());
        if (filter?.createdBefore !== undefined) where("created_at < ?", filter.createdBefore.getTime());
        return readPage<Run>(
          sql,
          {
            table: "runs",
            where: conditions.join(" AND "),
            params,
            timeColumn: "created_at",
            idColumn: "id",
            columns: "id, doc",
            decode: decodeRun,
          },
          page,
          (r) => r.createdAt,
        );
      }),
    // A system operation (startup recovery), deliberately not scoped by tenant.
    findByStatus: (statuses) =>
      guard(() => {
        if (statuses.length === 0) return [];
        const rows = sql(
          `SELECT id, doc FROM runs WHERE status IN (${placeholders(statuses.length)}) ORDER BY created_at, id`,
        ).all(...statuses) as RunRow[];
        return rows.map(decodeRun);
      }),
  };

  const agentRows = createAgentRows(db, sql);

  const agents: AgentStore = {
    create: (agent) =>
      guard(() =>
        insertOrConflict(async () => agentRows.insert(agent), isUniqueViolation, "Agent", agent.id),
      ),
    update: (tenantId, id, patch) =>
      guard(() => {
        if (!agentRows.patch(tenantId, id, patch)) throw notFound("Agent", id);
      }),
    get: (tenantId, id) => guard(() => agentRows.read(tenantId, id)),
    getMany: (tenantId, ids) =>
      guard(() => {
        const unique = [...new Set(ids)];
        if (unique.length === 0) return [];
        const rows = sql(
          `SELECT ${AGENT_COLUMNS} FROM agents WHERE tenant_id = ? AND id IN (${placeholders(unique.length)})`,
        ).all(tenantId, ...unique) as AgentRow[];
        const byId = new Map(rows.map((r) => [r.id, r]));
        // In the order asked for, so callers (DataLoader) can zip ids with results.
        return unique.flatMap((id) => {
          const row = byId.get(id);
          return row === undefined ? [] : [agentRows.decode(row)];
        });
      }),
    listByRun: (tenantId, runId) =>
      guard(() => {
        const rows = sql(
          `SELECT ${AGENT_COLUMNS} FROM agents WHERE tenant_id = ? AND run_id = ? ORDER BY ordinal, id`,
        ).all(tenantId, runId) as AgentRow[];
        return rows.map(agentRows.decode);
      }),
    listByRuns: (tenantId, runIds) =>
      guard(() => {
        const unique = [...new Set(runIds)];
        if (unique.length === 0) return [];
        const rows = sql(
          `SELECT ${AGENT_COLUMNS} FROM agents WHERE tenant_id = ? AND run_id IN (${placeholders(unique.length)})
           ORDER BY run_id, ordinal, id`,
        ).all(tenantId, ...unique) as AgentRow[];
        return rows.map(agentRows.decode);
      }),
    list: (tenantId, page, filter) =>
      guard(() => {
        const where = ["tenant_id = ?"];
        const params: unknown[] = [tenantId];
        if (filter?.role !== undefined) {
          where.push("role = ?");
          params.push(filter.role);
        }
        if (filter?.runId !== undefined) {
          where.push("run_id = ?");
          params.push(filter.runId);
        }
        const q = {
          table: "agents",
          where: where.join(" AND "),
          params,
          timeColumn: "created_at",
          idColumn: "id",
          columns: LISTED_AGENT_COLUMNS,
          decode: agentRows.decodeListed,
        };
        return readPage<Agent>(sql, q, page, (a) => a.createdAt);
      }),
  };

  const applyChange = (change: StateChange) => {
    switch (change.kind) {
      case "createAgent":
        try {
          agentRows.insert(change.agent);
        } catch (e) {
          throw isUniqueViolation(e) ? conflict("Agent", change.agent.id, e) : e;
        }
        return;
      case "updateAgent":
        if (!agentRows.patch(change.tenantId, change.id, change.patch)) throw notFound("Agent", change.id);
        return;
      case "updateRun":
        if (patchRun(change.tenantId, change.id, change.patch) === null) throw notFound("Run", change.id);
        return;
    }
  };

  // One transaction per batch: the changes it announces and every event of it are stored, or (on a
  // failed change or a duplicate seq) nothing.
  const insertEvents = db.transaction((batch: readonly RunEvent[], changes: readonly StateChange[]) => {
    for (const change of changes) applyChange(change);
    const insert = sql("INSERT INTO events (run_id, seq, tenant_id, doc) VALUES (?, ?, ?, ?)");
    batch.forEach((event, at) => {
      try {
        insert.run(event.runId, event.seq, event.tenantId, encodeEvent(event));
      } catch (e) {
        throw isUniqueViolation(e) ? new RefusedEvent(at, e) : e;
      }
    });
  });

  const events: EventStore = {
    append: (batch, changes = []) =>
      guard(async () => {
        if (batch.length === 0 && changes.length === 0) return;
        await insertEventsOrConflict(
          batch,
          async () => insertEvents.immediate(batch, changes),
          (e) => (e instanceof RefusedEvent ? e.at : null),
        );
      }),
    list: (tenantId, runId, afterSeq, limit) =>
      guard(() => {
        if (limit !== undefined && limit <= 0) return [];
        const rows = sql(
          "SELECT run_id, seq, tenant_id, doc FROM events WHERE run_id = ? AND seq > ? AND tenant_id = ? ORDER BY seq LIMIT ?",
        ).all(runId, afterSeq, tenantId, limit ?? -1) as EventRow[];
        return rows.map(decodeEvent);
      }),
    lastSeq: (tenantId, runId) =>
      guard(() => {
        const row = sql("SELECT max(seq) AS seq FROM events WHERE run_id = ? AND tenant_id = ?").get(
          runId,
          tenantId,
        ) as { seq: number | null };
        return row.seq ?? 0;
      }),
  };

  let closed = false;
  return {
    runs,
    agents,
    events,
    ping: async () => {
      if (closed || !db.open) throw unavailable(STORE, new Error("store closed"));
    },
    close: async () => {
      closed = true;
      await release();
    },
  };
};

/** The position in a batch of the event SQLite refused as a duplicate (runId, seq). */
class RefusedEvent extends Error {
  constructor(
    readonly at: number,
    cause: unknown,
  ) {
    super("duplicate event", { cause });
  }
}
