import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import nedb from "@seald-io/nedb";
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
import { DEFAULT_COMPACTION_INTERVAL_MS } from "./embedded-store.js";

/** How often a ledger append retries after losing the race for an index. @default 16 */
export const MAX_LEDGER_APPEND_ATTEMPTS = 16;

/** Options of {@link createEmbeddedProvenanceStore}. */
export interface EmbeddedProvenanceStoreOptions {
  /** Folder for the data files (shared with the embedded store); `null` keeps everything in memory. */
  readonly dataDir: string | null;
  readonly compactionIntervalMs?: number;
}

// The package is CommonJS with `export default` typings; see embedded-store.ts.
const Datastore = nedb as unknown as typeof nedb.default;
type Datastore<T extends object> = nedb.default<T>;

type LedgerDoc = LedgerRecord & { _id: string };
type CheckpointDoc = StoredCheckpoint & { _id: string };
type ReceiptDoc = { _id: string; tenantId: string; runId: string; receipt: AnchorReceipt };
type KeyDoc = StoredSigningKey & { _id: string };

/** The single signing key's document id. */
const SIGNING_KEY_ID = "ledger-signing-key";

/** Ids end in `:<number>`, so no two (tenant, number) pairs share one whatever the tenant id holds. */
const keyOf = (tenantId: string, n: number | string): string => `${tenantId}:${n}`;

const unavailable = (cause: unknown): AppError =>
  new AppError(
    ErrorCode.StoreUnavailable,
    "The embedded provenance store could not complete the operation.",
    {
      cause,
    },
  );

const guard = async <T>(op: () => Promise<T>): Promise<T> => {
  try {
    return await op();
  } catch (e) {
    throw e instanceof AppError ? e : unavailable(e);
  }
};

const isUniqueViolation = (e: unknown): boolean =>
  typeof e === "object" && e !== null && "errorType" in e && e.errorType === "uniqueViolated";

const strip = <T extends { _id: string }>(doc: T): Omit<T, "_id"> => {
  const { _id, ...rest } = doc;
  return rest;
};

/**
 * The provenance records on @seald-io/nedb, beside the embedded store's files (`provenance-*.db`).
 * Document ids make the invariants hold: `<tenant>:<index>` keeps ledger indexes unique (a lost race is
 * retried at the next index), `<tenant>:<size>` keeps one checkpoint per tree size.
 */
export const createEmbeddedProvenanceStore = async (
  options: EmbeddedProvenanceStoreOptions,
): Promise<ProvenanceStore> => {
  const { dataDir } = options;
  if (dataDir !== null) await mkdir(dataDir, { recursive: true });
  const open = async <D extends object>(name: string): Promise<Datastore<D>> => {
    const ds = new Datastore<D>(
      dataDir === null ? { inMemoryOnly: true } : { filename: join(dataDir, `provenance-${name}.db`) },
    );
    await ds.loadDatabaseAsync();
    ds.setAutocompactionInterval(options.compactionIntervalMs ?? DEFAULT_COMPACTION_INTERVAL_MS);
    return ds;
  };
  const ledgerDs = await open<LedgerDoc>("ledger");
  const checkpointsDs = await open<CheckpointDoc>("checkpoints");
  const receiptsDs = await open<ReceiptDoc>("receipts");
  const keysDs = await open<KeyDoc>("keys");
  await guard(async () => {
    await ledgerDs.ensureIndexAsync({ fieldName: "tenantId" });
    await ledgerDs.ensureIndexAsync({ fieldName: "entry.runId" });
    await checkpointsDs.ensureIndexAsync({ fieldName: "tenantId" });
    await receiptsDs.ensureIndexAsync({ fieldName: "runId" });
  });

  const ledger: LedgerStore = {
    append: (tenantId, entry, leafHash) =>
      guard(async () => {
        for (let attempt = 0; attempt < MAX_LEDGER_APPEND_ATTEMPTS; attempt++) {
          const index = (await ledgerDs.countAsync({ tenantId }).execAsync()) as unknown as number;
          const record: LedgerRecord = { tenantId, index, entry, leafHash };
          try {
            await ledgerDs.insertAsync({ ...record, _id: keyOf(tenantId, index) });
            return record;
          } catch (e) {
            if (!isUniqueViolation(e)) throw e;
          }
        }
        throw new AppError(ErrorCode.Conflict, `Ledger append for tenant ${tenantId} kept losing races.`);
      }),
    size: (tenantId) =>
      guard(async () => (await ledgerDs.countAsync({ tenantId }).execAsync()) as unknown as number),
    leafHashes: (tenantId, count) =>
      guard(async () => {
        const docs = (await ledgerDs
          .findAsync({ tenantId, index: { $lt: count } })
          .sort({ index: 1 })
          .execAsync()) as unknown as LedgerDoc[];
        if (docs.length < count) {
          throw new AppError(ErrorCode.NotFound, `The ledger holds ${docs.length} entries, not ${count}.`);
        }
        return docs.map((d) => d.leafHash);
      }),
    findByRun: (tenantId, runId) =>
      guard(async () => {
        const doc = (await ledgerDs
          .findOneAsync({ tenantId, "entry.runId": runId })
          .execAsync()) as unknown as LedgerDoc | null;
        return doc && (strip(doc) as LedgerRecord);
      }),
  };

  const checkpoints: CheckpointStore = {
    put: (checkpoint) =>
      guard(async () => {
        try {
          await checkpointsDs.insertAsync({
            ...checkpoint,
            _id: keyOf(checkpoint.tenantId, checkpoint.treeSize),
          });
        } catch (e) {
          if (!isUniqueViolation(e)) throw e;
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
        const doc = (await checkpointsDs
          .findOneAsync({ _id: keyOf(tenantId, treeSize), tenantId })
          .execAsync()) as unknown as CheckpointDoc | null;
        return doc && (strip(doc) as StoredCheckpoint);
      }),
    latest: (tenantId) =>
      guard(async () => {
        const docs = (await checkpointsDs
          .findAsync({ tenantId })
          .sort({ treeSize: -1 })
          .limit(1)
          .execAsync()) as unknown as CheckpointDoc[];
        return docs[0] ? (strip(docs[0]) as StoredCheckpoint) : null;
      }),
  };

  const receipts: ReceiptStore = {
    add: (tenantId, runId, receipt) =>
      guard(async () => {
        const _id = JSON.stringify([tenantId, runId, receipt.backend, receipt.anchorId]);
        try {
          await receiptsDs.insertAsync({ _id, tenantId, runId, receipt });
        } catch (e) {
          // The same receipt stored twice is a no-op.
          if (!isUniqueViolation(e)) throw e;
        }
      }),
    listByRun: (tenantId, runId) =>
      guard(async () => {
        const docs = (await receiptsDs
          .findAsync({ tenantId, runId })
          .sort({ "receipt.anchoredAt": 1, "receipt.backend": 1 })
          .execAsync()) as unknown as ReceiptDoc[];
        return docs.map((d) => d.receipt);
      }),
  };

  const signingKey: SigningKeyStore = {
    getOrCreate: (candidate) =>
      guard(async () => {
        try {
          await keysDs.insertAsync({ ...candidate, _id: SIGNING_KEY_ID });
          return candidate;
        } catch (e) {
          if (!isUniqueViolation(e)) throw e;
          const doc = (await keysDs.findOneAsync({ _id: SIGNING_KEY_ID }).execAsync()) as unknown as KeyDoc;
          return strip(doc) as StoredSigningKey;
        }
      }),
  };

  let closed = false;
  return {
    ledger,
    checkpoints,
    receipts,
    signingKey,
    close: async () => {
      if (closed) return;
      closed = true;
      for (const ds of [ledgerDs, checkpointsDs, receiptsDs, keysDs] as Datastore<object>[]) {
        ds.stopAutocompaction();
        if (dataDir !== null) await ds.compactDatafileAsync();
      }
    },
  };
};
