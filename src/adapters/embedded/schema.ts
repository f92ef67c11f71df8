import type Database from "better-sqlite3";

/**
 * The embedded database's tables, one migration per schema version (`PRAGMA user_version`): a
 * database is brought to the latest version at open, in one transaction per step, and a newer
 * database than this code knows is refused. Each table keeps its record as a JSON document (`doc`)
 * plus real columns for what is filtered or sorted on, each query backed by an index.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE runs (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, status TEXT NOT NULL,
    created_at INTEGER NOT NULL, doc TEXT NOT NULL);
  CREATE INDEX runs_by_tenant ON runs (tenant_id, created_at DESC, id DESC);
  CREATE INDEX runs_by_tenant_status ON runs (tenant_id, status, created_at DESC, id DESC);
  CREATE INDEX runs_by_status ON runs (status);

  CREATE TABLE agents (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, run_id TEXT NOT NULL, role TEXT NOT NULL,
    ordinal INTEGER NOT NULL, created_at INTEGER NOT NULL, doc TEXT NOT NULL);
  CREATE INDEX agents_by_tenant ON agents (tenant_id, created_at DESC, id DESC);
  CREATE INDEX agents_by_run ON agents (tenant_id, run_id, ordinal);
  CREATE INDEX agents_by_role ON agents (tenant_id, role, created_at DESC, id DESC);

  CREATE TABLE events (
    run_id TEXT NOT NULL, seq INTEGER NOT NULL, tenant_id TEXT NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (run_id, seq));

  CREATE TABLE evolution_members (
    tenant_id TEXT NOT NULL, genome_id TEXT NOT NULL, created_at INTEGER NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (tenant_id, genome_id));
  CREATE TABLE evolution_pools (
    tenant_id TEXT NOT NULL, role TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (tenant_id, role));
  CREATE TABLE evolution_experiments (
    tenant_id TEXT NOT NULL, id TEXT NOT NULL, recorded_at INTEGER NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id));
  CREATE INDEX evolution_experiments_by_time ON evolution_experiments (tenant_id, recorded_at, id);
  CREATE TABLE evolution_rules (
    tenant_id TEXT NOT NULL, id TEXT NOT NULL, key TEXT NOT NULL, confidence REAL NOT NULL,
    created_at INTEGER NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (tenant_id, id), UNIQUE (tenant_id, key));
  CREATE INDEX evolution_rules_by_time ON evolution_rules (tenant_id, created_at DESC, id DESC);
  CREATE INDEX evolution_rules_by_confidence
    ON evolution_rules (tenant_id, confidence DESC, created_at DESC, id DESC);
  CREATE TABLE evolution_records (
    tenant_id TEXT NOT NULL, id TEXT NOT NULL, at INTEGER NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id));
  CREATE INDEX evolution_records_by_time ON evolution_records (tenant_id, at DESC, id DESC);

  CREATE TABLE ledger (
    tenant_id TEXT NOT NULL, idx INTEGER NOT NULL, run_id TEXT NOT NULL, leaf_hash TEXT NOT NULL,
    entry TEXT NOT NULL, PRIMARY KEY (tenant_id, idx));
  CREATE INDEX ledger_by_run ON ledger (tenant_id, run_id);
  CREATE TABLE checkpoints (
    tenant_id TEXT NOT NULL, tree_size INTEGER NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (tenant_id, tree_size));
  CREATE TABLE receipts (
    tenant_id TEXT NOT NULL, run_id TEXT NOT NULL, backend TEXT NOT NULL, anchor_id TEXT NOT NULL,
    anchored_at TEXT NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (tenant_id, run_id, backend, anchor_id));
  CREATE TABLE signing_keys (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
  `,
  // Roots of the ledgers' perfect subtrees, filled in as proofs need them (adapters/shared/merkle-nodes.ts).
  `
  CREATE TABLE ledger_nodes (
    tenant_id TEXT NOT NULL, level INTEGER NOT NULL, idx INTEGER NOT NULL, hash TEXT NOT NULL,
    PRIMARY KEY (tenant_id, level, idx)) WITHOUT ROWID;
  `,
  // Version 3: human reviews (a run waiting for a person survives restarts).
  `
  CREATE TABLE reviews (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, run_id TEXT NOT NULL, agent_id TEXT NOT NULL,
    state TEXT NOT NULL, created_at INTEGER NOT NULL, deadline INTEGER NOT NULL, doc TEXT NOT NULL);
  CREATE INDEX reviews_pending ON reviews (tenant_id, state, created_at DESC, id DESC);
  CREATE INDEX reviews_by_run ON reviews (tenant_id, run_id, created_at);
  CREATE INDEX reviews_by_agent ON reviews (tenant_id, agent_id);
  CREATE INDEX reviews_due ON reviews (state, deadline);
  `,
  // Version 4: documents deflated with a dictionary of their kind, behind a marker byte (see
  // sqlite-codec.ts), and events without their row's run, tenant and seq. No table changes and no row
  // is rewritten (rows of version 3 read as they are); the version is raised so that a server of
  // version 3, which could not read the new rows, refuses the database at open instead.
  `
  SELECT 1;
  `,
  // Version 5: an agent's transcript in a column of its own, read only when used (most reads of
  // agents never look at it). Agents stored before keep theirs inside `doc` (the column is null)
  // and read the same.
  `
  ALTER TABLE agents ADD COLUMN transcript BLOB;
  `,
  // Version 6: an agent's state in a column of its own, ahead of its document's, so that a change of
  // the state alone (an agent starting its debate) is one small update that decodes and deflates
  // nothing. Agents stored before have none (null): their document holds it.
  `
  ALTER TABLE agents ADD COLUMN state TEXT;
  `,
  // Version 7: events clustered by (run, seq), WITHOUT ROWID: a run's events are one range of one
  // b-tree, where they were rows of a table plus a second b-tree (the primary key's index) repeating
  // run and seq. An append then writes one b-tree's pages, and a replay reads one range. Every event
  // is copied over as it is.
  `
  CREATE TABLE events_by_run (
    run_id TEXT NOT NULL, seq INTEGER NOT NULL, tenant_id TEXT NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)) WITHOUT ROWID;
  INSERT INTO events_by_run (run_id, seq, tenant_id, doc) SELECT run_id, seq, tenant_id, doc FROM events;
  DROP TABLE events;
  ALTER TABLE events_by_run RENAME TO events;
  `,
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the database to SCHEMA_VERSION; refuses a database written by a newer version. */
export const migrate = (db: Database.Database): void => {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new Error(
      `The embedded database has schema version ${current}; this server knows up to ${SCHEMA_VERSION}.`,
    );
  }
  for (let version = current; version < SCHEMA_VERSION; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version] as string);
      db.pragma(`user_version = ${version + 1}`);
    }).immediate();
  }
};
