import { existsSync, mkdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import type Database from "better-sqlite3";
import { AppError, ErrorCode } from "../../domain/errors.js";
import type { RunEvent } from "../../domain/events.js";
import { normalizeRuleText } from "../../domain/evolution.js";
import { currentEventShape } from "../shared/documents.js";
import { type NedbDoc, readNedbFile } from "./nedb-files.js";
import { encodeDoc, encodeEvent } from "./sqlite-codec.js";

/**
 * The one-time import of a data folder the NeDB-based embedded store wrote: on the first start on such
 * a folder every document of every data file is copied into the SQLite database in one transaction,
 * the counts are checked, and the old files are moved into `nedb-imported-<date>/` beside it, kept
 * as they were. The import is recorded in the database in the same transaction, so a start cut short
 * after it only finishes moving the files. The API key file and the anchor file are not NeDB files
 * and stay where they are.
 */

/** The folder the imported NeDB files are moved into (the date of the import is appended). */
export const NEDB_IMPORTED_DIR_PREFIX = "nedb-imported-";

/** What one NeDB file holds and the row each of its documents becomes. */
interface Source {
  readonly file: string;
  readonly table: string;
  readonly columns: readonly string[];
  row(doc: NedbDoc): readonly unknown[];
}

const time = (v: unknown): number => (v as Date).getTime();
/** The domain record of a document whose `_id` is the record's id. */
const withId = ({ _id, ...rest }: NedbDoc) => ({ ...rest, id: _id });
/** The domain record of a document whose `_id` only keys it (the record carries its own id). */
const without = ({ _id, ...rest }: NedbDoc) => rest;

const SOURCES: readonly Source[] = [
  {
    file: "runs.db",
    table: "runs",
    columns: ["id", "tenant_id", "status", "created_at", "doc"],
    row: (d) => [d._id, d.tenantId, d.status, time(d.createdAt), encodeDoc(withId(d), "run")],
  },
  {
    file: "agents.db",
    table: "agents",
    columns: ["id", "tenant_id", "run_id", "role", "ordinal", "created_at", "doc"],
    row: (d) => [
      d._id,
      d.tenantId,
      d.runId,
      d.role,
      d.ordinal,
      time(d.createdAt),
      encodeDoc(withId(d), "agent"),
    ],
  },
  {
    file: "events.db",
    table: "events",
    columns: ["run_id", "seq", "tenant_id", "doc"],
    // Written in today's shape (see currentEventShape): an old AgentCompleted loses its copies.
    row: (d) => [
      d.runId,
      d.seq,
      d.tenantId,
      encodeEvent(currentEventShape(without(d) as unknown as RunEvent)),
    ],
  },
  {
    file: "evolution-genomes.db",
    table: "evolution_members",
    columns: ["tenant_id", "genome_id", "created_at", "doc"],
    row: (d) => [d.tenantId, (d.genome as { id: string }).id, time(d.createdAt), encodeDoc(without(d))],
  },
  {
    file: "evolution-pools.db",
    table: "evolution_pools",
    columns: ["tenant_id", "role", "doc"],
    row: (d) => [d.tenantId, d.role, encodeDoc(without(d))],
  },
  {
    file: "evolution-experiments.db",
    table: "evolution_experiments",
    columns: ["tenant_id", "id", "recorded_at", "doc"],
    row: (d) => [d.tenantId, d.id, time(d.recordedAt), encodeDoc(without(d))],
  },
  {
    file: "evolution-rules.db",
    table: "evolution_rules",
    columns: ["tenant_id", "id", "key", "confidence", "created_at", "doc"],
    row: ({ key, ...d }) => [
      d.tenantId,
      d.id,
      normalizeRuleText(String(d.description)),
      d.confidence,
      time(d.createdAt),
      encodeDoc(without(d as NedbDoc)),
    ],
  },
  {
    file: "evolution-records.db",
    table: "evolution_records",
    columns: ["tenant_id", "id", "at", "doc"],
    row: (d) => [d.tenantId, d.id, time(d.at), encodeDoc(without(d))],
  },
  {
    file: "provenance-ledger.db",
    table: "ledger",
    columns: ["tenant_id", "idx", "run_id", "leaf_hash", "entry"],
    row: (d) => [
      d.tenantId,
      d.index,
      (d.entry as { runId: string }).runId,
      d.leafHash,
      encodeDoc(d.entry, "provenance"),
    ],
  },
  {
    file: "provenance-checkpoints.db",
    table: "checkpoints",
    columns: ["tenant_id", "tree_size", "doc"],
    row: (d) => [d.tenantId, d.treeSize, encodeDoc(without(d), "provenance")],
  },
  {
    file: "provenance-receipts.db",
    table: "receipts",
    columns: ["tenant_id", "run_id", "backend", "anchor_id", "anchored_at", "doc"],
    row: (d) => {
      const r = d.receipt as { backend: string; anchorId: string; anchoredAt: string };
      return [d.tenantId, d.runId, r.backend, r.anchorId, r.anchoredAt, encodeDoc(r, "provenance")];
    },
  },
  {
    file: "provenance-keys.db",
    table: "signing_keys",
    columns: ["id", "doc"],
    row: (d) => [d._id, encodeDoc(without(d))],
  },
];

/** What an import did: documents per table, and where the old files went. */
export interface NedbImportReport {
  readonly counts: Readonly<Record<string, number>>;
  readonly movedTo: string;
}

/** True when the folder holds any data file of the NeDB-based store. */
export const hasNedbFiles = (dataDir: string): boolean =>
  SOURCES.some((s) => existsSync(join(dataDir, s.file)) || existsSync(join(dataDir, `${s.file}~`)));

/**
 * Imports the NeDB files of `dataDir` into `db` (unless an earlier start did) and moves them aside;
 * returns what it did, or null when there was nothing to import.
 */
export const importNedbFolder = (
  db: Database.Database,
  dataDir: string,
  now: Date,
): NedbImportReport | null => {
  if (!hasNedbFiles(dataDir)) return null;
  db.exec("CREATE TABLE IF NOT EXISTS nedb_imports (at INTEGER NOT NULL, counts TEXT NOT NULL)");
  const done = db.prepare("SELECT counts FROM nedb_imports LIMIT 1").get() as { counts: string } | undefined;
  const counts = done ? (JSON.parse(done.counts) as Record<string, number>) : copyAll(db, dataDir, now);
  return { counts, movedTo: moveAside(dataDir, now) };
};

const copyAll = (db: Database.Database, dataDir: string, now: Date): Record<string, number> =>
  db
    .transaction(() => {
      const counts: Record<string, number> = {};
      for (const source of SOURCES) {
        const docs = readNedbFile(join(dataDir, source.file));
        if (docs === null) continue;
        const { table, columns } = source;
        const insert = db.prepare(
          `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
        );
        const count = db.prepare(`SELECT count(*) AS n FROM ${table}`);
        const before = (count.get() as { n: number }).n;
        for (const doc of docs) insert.run(...source.row(doc));
        const stored = (count.get() as { n: number }).n - before;
        if (stored !== docs.length) {
          throw new AppError(
            ErrorCode.Internal,
            `Importing ${source.file}: ${docs.length} documents read but ${stored} rows stored.`,
          );
        }
        counts[table] = stored;
      }
      db.prepare("INSERT INTO nedb_imports (at, counts) VALUES (?, ?)").run(
        now.getTime(),
        JSON.stringify(counts),
      );
      return counts;
    })
    .immediate();

/** Moves every NeDB file into `nedb-imported-<date>/`; returns that folder. */
const moveAside = (dataDir: string, now: Date): string => {
  const target = join(dataDir, `${NEDB_IMPORTED_DIR_PREFIX}${now.toISOString().replace(/[:.]/g, "-")}`);
  mkdirSync(target, { recursive: true });
  for (const { file } of SOURCES) {
    for (const name of [file, `${file}~`]) {
      if (existsSync(join(dataDir, name))) renameSync(join(dataDir, name), join(target, name));
    }
  }
  return target;
};
