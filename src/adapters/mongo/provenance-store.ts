import { type Db, type IndexDescription, type MongoClient, MongoServerError } from "mongodb";
import type { AnchorReceipt } from "../../domain/anchor.js";
import { AppError, ErrorCode } from "../../domain/errors.js";
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
import { toAppError } from "./mongo-store.js";

/** How often a ledger append retries after losing the race for an index. @default 16 */
export const MAX_LEDGER_APPEND_ATTEMPTS = 16;

/** Collection names of the provenance records. */
export const PROVENANCE_COLLECTIONS = {
  ledger: "provenance_ledger",
  checkpoints: "provenance_checkpoints",
  receipts: "provenance_receipts",
  keys: "provenance_keys",
} as const;

type LedgerDoc = LedgerRecord & { _id: string };
type CheckpointDoc = StoredCheckpoint & { _id: string };
type ReceiptDoc = { _id: string; tenantId: string; runId: string; receipt: AnchorReceipt };
type KeyDoc = StoredSigningKey & { _id: string };

/** The unique indexes are what keep ledger indexes and checkpoint sizes unique across processes. */
export const PROVENANCE_INDEXES: Readonly<
  Record<keyof typeof PROVENANCE_COLLECTIONS, readonly IndexDescription[]>
> = {
  ledger: [{ key: { tenantId: 1, index: 1 }, unique: true }, { key: { tenantId: 1, "entry.runId": 1 } }],
  checkpoints: [{ key: { tenantId: 1, treeSize: 1 }, unique: true }],
  receipts: [{ key: { tenantId: 1, runId: 1 } }],
  keys: [],
};

/** Creates the provenance collections' indexes; idempotent. One index per command (see collections.ts). */
export const ensureProvenanceIndexes = async (db: Db): Promise<void> => {
  for (const [name, indexes] of Object.entries(PROVENANCE_INDEXES)) {
    const collection = PROVENANCE_COLLECTIONS[name as keyof typeof PROVENANCE_COLLECTIONS];
    for (const index of indexes) await db.collection(collection).createIndexes([index]);
  }
};

/** Options of {@link createMongoProvenanceStore}. */
export interface MongoProvenanceStoreOptions {
  /** A client built and owned by the caller. */
  readonly client: MongoClient;
  readonly dbName: string;
}

/** The single signing key's document id. */
const SIGNING_KEY_ID = "ledger-signing-key";

const isDuplicateKey = (e: unknown): boolean => e instanceof MongoServerError && e.code === 11000;

const guard = async <T>(op: () => Promise<T>): Promise<T> => {
  try {
    return await op();
  } catch (e) {
    throw toAppError(e);
  }
};

const strip = <T extends { _id: string }>(doc: T): Omit<T, "_id"> => {
  const { _id, ...rest } = doc;
  return rest;
};

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

  const ledger: LedgerStore = {
    append: (tenantId, entry, leafHash) =>
      guard(async () => {
        for (let attempt = 0; attempt < MAX_LEDGER_APPEND_ATTEMPTS; attempt++) {
          const index = await ledgerC.countDocuments({ tenantId });
          const record: LedgerRecord = { tenantId, index, entry, leafHash };
          try {
            await ledgerC.insertOne({ ...record, _id: `${tenantId}:${index}` });
            return record;
          } catch (e) {
            if (!isDuplicateKey(e)) throw e;
          }
        }
        throw new AppError(ErrorCode.Conflict, `Ledger append for tenant ${tenantId} kept losing races.`);
      }),
    size: (tenantId) => guard(() => ledgerC.countDocuments({ tenantId })),
    leafHashes: (tenantId, count) =>
      guard(async () => {
        const docs = await ledgerC
          .find({ tenantId, index: { $lt: count } }, { projection: { _id: 0, leafHash: 1 } })
          .sort({ index: 1 })
          .toArray();
        if (docs.length < count) {
          throw new AppError(ErrorCode.NotFound, `The ledger holds ${docs.length} entries, not ${count}.`);
        }
        return docs.map((d) => d.leafHash);
      }),
    findByRun: (tenantId, runId) =>
      guard(async () => {
        const doc = await ledgerC.findOne({ tenantId, "entry.runId": runId });
        return doc && (strip(doc) as LedgerRecord);
      }),
  };

  const checkpoints: CheckpointStore = {
    put: (checkpoint) =>
      guard(async () => {
        try {
          await checkpointsC.insertOne({
            ...checkpoint,
            _id: `${checkpoint.tenantId}:${checkpoint.treeSize}`,
          });
        } catch (e) {
          if (!isDuplicateKey(e)) throw e;
          const existing = await checkpoints.get(checkpoint.tenantId, checkpoint.treeSize);
          if (existing?.note !== checkpoint.note) {
            throw new AppError(
              ErrorCode.Conflict,
              `A different checkpoint of size ${checkpoint.treeSize} exists.`,
              {
                cause: e,
              },
            );
          }
        }
      }),
    get: (tenantId, treeSize) =>
      guard(async () => {
        const doc = await checkpointsC.findOne({ tenantId, treeSize });
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
        const _id = JSON.stringify([tenantId, runId, receipt.backend, receipt.anchorId]);
        try {
          await receiptsC.insertOne({ _id, tenantId, runId, receipt });
        } catch (e) {
          // The same receipt stored twice is a no-op.
          if (!isDuplicateKey(e)) throw e;
        }
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
      guard(async () => {
        try {
          await keysC.insertOne({ ...candidate, _id: SIGNING_KEY_ID });
          return candidate;
        } catch (e) {
          if (!isDuplicateKey(e)) throw e;
          const doc = await keysC.findOne({ _id: SIGNING_KEY_ID });
          if (doc === null) throw e;
          return strip(doc) as StoredSigningKey;
        }
      }),
  };

  return { ledger, checkpoints, receipts, signingKey, close: async () => {} };
};
