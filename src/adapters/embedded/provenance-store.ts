import type { AnchorReceipt } from "../../domain/anchor.js";
import type { LedgerEntry } from "../../domain/ledger.js";
import { type NodeKey, nodeKeyId } from "../../domain/merkle-nodes.js";
import type {
  CheckpointStore,
  LedgerRecord,
  LedgerStore,
  ProvenanceStore,
  ReceiptStore,
  SigningKeyStore,
  StoredCheckpoint,
  StoredSigningKey,
} from "../../ports/provenance-store.js";
import { type NodeIo, readNodes } from "../shared/merkle-nodes.js";
import {
  getOrCreateKey,
  leafHashesOfRange,
  putCheckpointOnce,
  SIGNING_KEY_ID,
} from "../shared/provenance-records.js";
import {
  databaseOf,
  decodeDoc,
  type EmbeddedOptions,
  encodeDoc,
  guardFor,
  isUniqueViolation,
} from "./sqlite.js";
import type { StoredDoc } from "./sqlite-codec.js";
import { statementCache } from "./statements.js";

export { MAX_LEDGER_APPEND_ATTEMPTS } from "../shared/provenance-records.js";
export type { EmbeddedOptions as EmbeddedProvenanceStoreOptions } from "./sqlite.js";

const guard = guardFor("embedded provenance store");

type LedgerRow = { tenant_id: string; idx: number; leaf_hash: string; entry: StoredDoc };
const toRecord = (r: LedgerRow): LedgerRecord => ({
  tenantId: r.tenant_id,
  index: r.idx,
  entry: decodeDoc<LedgerEntry>(r.entry),
  leafHash: r.leaf_hash,
});

/**
 * The provenance records on the embedded SQLite database (see sqlite.ts). A ledger append takes the
 * next index and inserts in one immediate transaction, so concurrent appends (of any connection) get
 * distinct, gap-free indexes; keys make the other invariants hold (one checkpoint per tree size, one
 * signing key).
 */
export const createEmbeddedProvenanceStore = async (options: EmbeddedOptions): Promise<ProvenanceStore> => {
  const { database, release } = await guard(() => databaseOf(options));
  const { db } = database;
  const sql = statementCache(db);

  const size = (tenantId: string): number =>
    (
      sql("SELECT coalesce(max(idx) + 1, 0) AS n FROM ledger WHERE tenant_id = ?").get(tenantId) as {
        n: number;
      }
    ).n;
  const appendLedger = db.transaction((tenantId: string, entry: LedgerEntry, leafHash: string) => {
    const record: LedgerRecord = { tenantId, index: size(tenantId), entry, leafHash };
    sql("INSERT INTO ledger (tenant_id, idx, run_id, leaf_hash, entry) VALUES (?, ?, ?, ?, ?)").run(
      tenantId,
      record.index,
      entry.runId,
      leafHash,
      encodeDoc(entry, "provenance"),
    );
    return record;
  });

  const keepNodes = db.transaction((tenantId: string, nodes: readonly { key: NodeKey; hash: string }[]) => {
    const insert = sql(
      "INSERT OR IGNORE INTO ledger_nodes (tenant_id, level, idx, hash) VALUES (?, ?, ?, ?)",
    );
    for (const { key, hash } of nodes) insert.run(tenantId, key.level, key.index, hash);
  });
  const nodeIo = (tenantId: string): NodeIo => ({
    leaves: async (indexes) => {
      const read = sql("SELECT leaf_hash AS hash FROM ledger WHERE tenant_id = ? AND idx = ?");
      const found = new Map<number, string>();
      for (const index of indexes) {
        const row = read.get(tenantId, index) as { hash: string } | undefined;
        if (row !== undefined) found.set(index, row.hash);
      }
      return found;
    },
    stored: async (keys) => {
      const read = sql("SELECT hash FROM ledger_nodes WHERE tenant_id = ? AND level = ? AND idx = ?");
      const found = new Map<string, string>();
      for (const key of keys) {
        const row = read.get(tenantId, key.level, key.index) as { hash: string } | undefined;
        if (row !== undefined) found.set(nodeKeyId(key), row.hash);
      }
      return found;
    },
    keep: async (nodes) => keepNodes.immediate(tenantId, nodes),
  });

  const ledger: LedgerStore = {
    append: (tenantId, entry, leafHash) => guard(() => appendLedger.immediate(tenantId, entry, leafHash)),
    size: (tenantId) => guard(() => size(tenantId)),
    leafHashes: (tenantId, count, from = 0) =>
      guard(() => {
        const rows = sql(
          "SELECT leaf_hash AS leafHash FROM ledger WHERE tenant_id = ? AND idx >= ? AND idx < ? ORDER BY idx",
        ).all(tenantId, from, count) as { leafHash: string }[];
        return leafHashesOfRange(count, rows, from);
      }),
    nodes: (tenantId, keys) => guard(() => readNodes(keys, nodeIo(tenantId))),
    findByRun: (tenantId, runId) =>
      guard(() => {
        const row = sql(
          "SELECT tenant_id, idx, leaf_hash, entry FROM ledger WHERE tenant_id = ? AND run_id = ? LIMIT 1",
        ).get(tenantId, runId) as LedgerRow | undefined;
        return row === undefined ? null : toRecord(row);
      }),
  };

  const readCheckpoint = (sqlText: string, ...params: unknown[]): StoredCheckpoint | null => {
    const row = sql(sqlText).get(...params) as { doc: StoredDoc } | undefined;
    return row === undefined ? null : decodeDoc<StoredCheckpoint>(row.doc);
  };
  const checkpoints: CheckpointStore = {
    put: (checkpoint) =>
      guard(() =>
        putCheckpointOnce(checkpoint, {
          insert: async () =>
            sql("INSERT INTO checkpoints (tenant_id, tree_size, doc) VALUES (?, ?, ?)").run(
              checkpoint.tenantId,
              checkpoint.treeSize,
              encodeDoc(checkpoint, "provenance"),
            ),
          stored: () => checkpoints.get(checkpoint.tenantId, checkpoint.treeSize),
          isDuplicate: isUniqueViolation,
        }),
      ),
    get: (tenantId, treeSize) =>
      guard(() =>
        readCheckpoint(
          "SELECT doc FROM checkpoints WHERE tenant_id = ? AND tree_size = ?",
          tenantId,
          treeSize,
        ),
      ),
    latest: (tenantId) =>
      guard(() =>
        readCheckpoint(
          "SELECT doc FROM checkpoints WHERE tenant_id = ? ORDER BY tree_size DESC LIMIT 1",
          tenantId,
        ),
      ),
  };

  const receipts: ReceiptStore = {
    add: (tenantId, runId, receipt) =>
      guard(() => {
        // The same receipt of the same run stored twice is a no-op.
        sql(
          `INSERT INTO receipts (tenant_id, run_id, backend, anchor_id, anchored_at, doc) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT DO NOTHING`,
        ).run(
          tenantId,
          runId,
          receipt.backend,
          receipt.anchorId,
          receipt.anchoredAt,
          encodeDoc(receipt, "provenance"),
        );
      }),
    listByRun: (tenantId, runId) =>
      guard(() => {
        const rows = sql(
          "SELECT doc FROM receipts WHERE tenant_id = ? AND run_id = ? ORDER BY anchored_at, backend",
        ).all(tenantId, runId) as { doc: StoredDoc }[];
        return rows.map((r) => decodeDoc<AnchorReceipt>(r.doc));
      }),
  };

  const storedKey = (): StoredSigningKey | null => {
    const row = sql("SELECT doc FROM signing_keys WHERE id = ?").get(SIGNING_KEY_ID) as
      | { doc: StoredDoc }
      | undefined;
    return row === undefined ? null : decodeDoc<StoredSigningKey>(row.doc);
  };
  const signingKey: SigningKeyStore = {
    getOrCreate: (candidate) =>
      guard(() =>
        getOrCreateKey(candidate, {
          insert: async () =>
            sql("INSERT INTO signing_keys (id, doc) VALUES (?, ?)").run(SIGNING_KEY_ID, encodeDoc(candidate)),
          stored: async () => storedKey(),
          isDuplicate: isUniqueViolation,
        }),
      ),
  };

  return { ledger, checkpoints, receipts, signingKey, close: () => release() };
};
