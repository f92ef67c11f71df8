import type { Db, IndexDescription } from "mongodb";
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
import { strip } from "../shared/documents.js";
import { insertUnlessDuplicate } from "../shared/guard.js";
import { type NodeIo, readNodes } from "../shared/merkle-nodes.js";
import {
  appendAtNextIndex,
  type CheckpointDoc,
  checkpointDocId,
  getOrCreateKey,
  type KeyDoc,
  type LedgerDoc,
  leafHashesOfRange,
  ledgerDocId,
  putCheckpointOnce,
  type ReceiptDoc,
  receiptDocId,
  SIGNING_KEY_ID,
} from "../shared/provenance-records.js";
import { ensureCollectionIndexes } from "./collections.js";
import { guard, isDuplicateKey } from "./errors.js";
import type { MongoStoreOptions } from "./mongo-store.js";

export { MAX_LEDGER_APPEND_ATTEMPTS } from "../shared/provenance-records.js";

/** The document id of a ledger node; ids end in two numbers, so no two (tenant, node) pairs share one. */
const nodeDocId = (tenantId: string, k: NodeKey): string => `${tenantId}:${k.level}:${k.index}`;

/** Collection names of the provenance records. */
export const PROVENANCE_COLLECTIONS = {
  ledger: "provenance_ledger",
  checkpoints: "provenance_checkpoints",
  receipts: "provenance_receipts",
  keys: "provenance_keys",
  nodes: "provenance_ledger_nodes",
} as const;

/** The unique indexes are what keep ledger indexes and checkpoint sizes unique across processes. */
export const PROVENANCE_INDEXES: Readonly<
  Record<keyof typeof PROVENANCE_COLLECTIONS, readonly IndexDescription[]>
> = {
  ledger: [{ key: { tenantId: 1, index: 1 }, unique: true }, { key: { tenantId: 1, "entry.runId": 1 } }],
  checkpoints: [{ key: { tenantId: 1, treeSize: 1 }, unique: true }],
  receipts: [{ key: { tenantId: 1, runId: 1 } }],
  keys: [],
  // Read by `_id` only (`<tenant>:<level>:<index>`), which FerretDB answers from its primary key.
  nodes: [],
};

/** Creates the provenance collections' indexes; idempotent. One index per command (see collections.ts). */
export const ensureProvenanceIndexes = (db: Db): Promise<void> =>
  ensureCollectionIndexes(db, PROVENANCE_COLLECTIONS, PROVENANCE_INDEXES);

/** Options of {@link createMongoProvenanceStore}: the same as every MongoDB store's. */
export type MongoProvenanceStoreOptions = MongoStoreOptions;

/**
 * The provenance records on MongoDB (FerretDB v1 compatible: single-document writes and plain finds).
 * Call `ensureProvenanceIndexes` at startup. Concurrent appends from several servers are ordered by the
 * unique {tenantId, index} index: the loser of a race retries at the next index.
 */
export const createMongoProvenanceStore = (options: MongoProvenanceStoreOptions): ProvenanceStore => {
  const db = options.client.db(options.dbName);
  const ledgerC = db.collection<LedgerDoc>(PROVENANCE_COLLECTIONS.ledger);
  const checkpointsC = db.collection<CheckpointDoc>(PROVENANCE_COLLECTIONS.checkpoints);
  const receiptsC = db.collection<ReceiptDoc>(PROVENANCE_COLLECTIONS.receipts);
  const keysC = db.collection<KeyDoc>(PROVENANCE_COLLECTIONS.keys);

  const nodesC = db.collection<{ _id: string; hash: string }>(PROVENANCE_COLLECTIONS.nodes);
  const nodeIo = (tenantId: string): NodeIo => ({
    // One `_id` equality per document, in parallel: the lookup FerretDB and MongoDB both serve from an index.
    leaves: async (indexes) => {
      const docs = await Promise.all(
        indexes.map((i) =>
          ledgerC.findOne({ _id: ledgerDocId(tenantId, i) }, { projection: { leafHash: 1 } }),
        ),
      );
      const found = new Map<number, string>();
      docs.forEach((doc, i) => {
        if (doc !== null) found.set(indexes[i] as number, doc.leafHash);
      });
      return found;
    },
    stored: async (keys) => {
      const docs = await Promise.all(keys.map((k) => nodesC.findOne({ _id: nodeDocId(tenantId, k) })));
      const found = new Map<string, string>();
      docs.forEach((doc, i) => {
        if (doc !== null) found.set(nodeKeyId(keys[i] as NodeKey), doc.hash);
      });
      return found;
    },
    keep: async (nodes) => {
      await Promise.all(
        nodes.map(({ key, hash }) =>
          insertUnlessDuplicate(
            () => nodesC.insertOne({ _id: nodeDocId(tenantId, key), hash }),
            isDuplicateKey,
          ),
        ),
      );
    },
  });

  /**
   * A ledger's size from lookups of its entries by `_id` (`<tenant>:<index>`, answered from the primary
   * key, where a count scans the collection on FerretDB). Indexes are gap-free and never removed, so
   * the size last seen here is a lower bound: usually one lookup (the next index is free) tells the size;
   * otherwise the end is found by doubling steps and bisection, O(log n) lookups.
   */
  const knownSizes = new Map<string, number>();
  const exists = async (tenantId: string, index: number) =>
    (await ledgerC.findOne({ _id: ledgerDocId(tenantId, index) }, { projection: { _id: 1 } })) !== null;
  const sizeOf = async (tenantId: string): Promise<number> => {
    let low = knownSizes.get(tenantId) ?? 0;
    if (!(await exists(tenantId, low))) return low;
    // exists(low); find a free index above it, then the first free one between.
    let step = 1;
    let high = low + step;
    while (await exists(tenantId, high)) {
      low = high;
      step *= 2;
      high = low + step;
    }
    while (high - low > 1) {
      const mid = Math.floor((low + high) / 2);
      if (await exists(tenantId, mid)) low = mid;
      else high = mid;
    }
    knownSizes.set(tenantId, high);
    return high;
  };

  const ledger: LedgerStore = {
    append: (tenantId, entry, leafHash) =>
      guard(async () => {
        const record = await appendAtNextIndex(tenantId, entry, leafHash, {
          size: () => sizeOf(tenantId),
          insert: (r) => ledgerC.insertOne({ ...r, _id: ledgerDocId(tenantId, r.index) }),
          isDuplicate: isDuplicateKey,
        });
        knownSizes.set(tenantId, Math.max(knownSizes.get(tenantId) ?? 0, record.index + 1));
        return record;
      }),
    size: (tenantId) => guard(() => sizeOf(tenantId)),
    leafHashes: (tenantId, count, from = 0) =>
      guard(async () => {
        const docs = await ledgerC
          .find({ tenantId, index: { $gte: from, $lt: count } }, { projection: { _id: 0, leafHash: 1 } })
          .sort({ index: 1 })
          .toArray();
        return leafHashesOfRange(count, docs, from);
      }),
    nodes: (tenantId, keys) => guard(() => readNodes(keys, nodeIo(tenantId))),
    findByRun: (tenantId, runId) =>
      guard(async () => {
        const doc = await ledgerC.findOne({ tenantId, "entry.runId": runId });
        return doc && (strip(doc) as LedgerRecord);
      }),
  };

  const checkpoints: CheckpointStore = {
    put: (checkpoint) =>
      guard(() =>
        putCheckpointOnce(checkpoint, {
          insert: () =>
            checkpointsC.insertOne({
              ...checkpoint,
              _id: checkpointDocId(checkpoint.tenantId, checkpoint.treeSize),
            }),
          stored: () => checkpoints.get(checkpoint.tenantId, checkpoint.treeSize),
          isDuplicate: isDuplicateKey,
        }),
      ),
    get: (tenantId, treeSize) =>
      guard(async () => {
        // By `_id` alone (it holds the tenant and size): answered from the primary key on FerretDB too.
        const doc = await checkpointsC.findOne({ _id: checkpointDocId(tenantId, treeSize) });
        return doc && (strip(doc) as StoredCheckpoint);
      }),
    latest: (tenantId) =>
      guard(async () => {
        const doc = await checkpointsC.findOne({ tenantId }, { sort: { treeSize: -1 } });
        return doc && (strip(doc) as StoredCheckpoint);
      }),
  };

  const receipts: ReceiptStore = {
    add: (tenantId, runId, receipt) =>
      guard(async () => {
        const _id = receiptDocId(tenantId, runId, receipt);
        // The same receipt stored twice is a no-op.
        await insertUnlessDuplicate(
          () => receiptsC.insertOne({ _id, tenantId, runId, receipt }),
          isDuplicateKey,
        );
      }),
    listByRun: (tenantId, runId) =>
      guard(async () => {
        const docs = await receiptsC
          .find({ tenantId, runId })
          .sort({ "receipt.anchoredAt": 1, "receipt.backend": 1 })
          .toArray();
        return docs.map((d) => d.receipt);
      }),
  };

  const signingKey: SigningKeyStore = {
    getOrCreate: (candidate) =>
      guard(() =>
        getOrCreateKey(candidate, {
          insert: () => keysC.insertOne({ ...candidate, _id: SIGNING_KEY_ID }),
          stored: async () => {
            const doc = await keysC.findOne({ _id: SIGNING_KEY_ID });
            return doc && (strip(doc) as StoredSigningKey);
          },
          isDuplicate: isDuplicateKey,
        }),
      ),
  };

  const close = async () => {
    if (options.ownsClient) await options.client.close();
  };
  return { ledger, checkpoints, receipts, signingKey, close };
};
