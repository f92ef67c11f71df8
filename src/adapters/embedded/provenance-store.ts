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
import { guardFor, insertUnlessDuplicate } from "../shared/guard.js";
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
import { isUniqueViolation, type NedbOptions, openNedbFiles, ownedById } from "./nedb.js";

export { MAX_LEDGER_APPEND_ATTEMPTS } from "../shared/provenance-records.js";

/** Options of {@link createEmbeddedProvenanceStore}: the folder is shared with the embedded store. */
export type EmbeddedProvenanceStoreOptions = NedbOptions;

const guard = guardFor("embedded provenance store");

/**
 * The provenance records on @seald-io/nedb, beside the embedded store's files (`provenance-*.db`).
 * Document ids make the invariants hold (see shared/provenance-records.ts): unique ledger indexes, one
 * checkpoint per tree size.
 */
export const createEmbeddedProvenanceStore = async (
  options: EmbeddedProvenanceStoreOptions,
): Promise<ProvenanceStore> => {
  const files = await openNedbFiles(options, "provenance-");
  const ledgerDs = await files.open<LedgerDoc>("ledger");
  const checkpointsDs = await files.open<CheckpointDoc>("checkpoints");
  const receiptsDs = await files.open<ReceiptDoc>("receipts");
  const keysDs = await files.open<KeyDoc>("keys");
  await guard(async () => {
    await ledgerDs.ensureIndexAsync({ fieldName: "tenantId" });
    await ledgerDs.ensureIndexAsync({ fieldName: "entry.runId" });
    await checkpointsDs.ensureIndexAsync({ fieldName: "tenantId" });
    await receiptsDs.ensureIndexAsync({ fieldName: "runId" });
  });

  const countLedger = async (tenantId: string): Promise<number> =>
    (await ledgerDs.countAsync({ tenantId }).execAsync()) as unknown as number;

  const ledger: LedgerStore = {
    append: (tenantId, entry, leafHash) =>
      guard(() =>
        appendAtNextIndex(tenantId, entry, leafHash, {
          size: () => countLedger(tenantId),
          insert: (record) => ledgerDs.insertAsync({ ...record, _id: ledgerDocId(tenantId, record.index) }),
          isDuplicate: isUniqueViolation,
        }),
      ),
    size: (tenantId) => guard(() => countLedger(tenantId)),
    leafHashes: (tenantId, count, from = 0) =>
      guard(async () => {
        // By `_id` (tenant and index), so that NeDB looks up just these entries through its `_id`
        // index rather than matching every entry of the tenant (see ownedById).
        const ids = Array.from({ length: Math.max(0, count - from) }, (_, i) =>
          ledgerDocId(tenantId, from + i),
        );
        const docs = (await ledgerDs
          .findAsync({ _id: { $in: ids } })
          .sort({ index: 1 })
          .execAsync()) as unknown as LedgerDoc[];
        return leafHashesOfRange(count, docs, from);
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
      guard(() =>
        putCheckpointOnce(checkpoint, {
          insert: () =>
            checkpointsDs.insertAsync({
              ...checkpoint,
              _id: checkpointDocId(checkpoint.tenantId, checkpoint.treeSize),
            }),
          stored: () => checkpoints.get(checkpoint.tenantId, checkpoint.treeSize),
          isDuplicate: isUniqueViolation,
        }),
      ),
    get: (tenantId, treeSize) =>
      guard(async () => {
        const doc = (await checkpointsDs
          .findOneAsync(ownedById(tenantId, checkpointDocId(tenantId, treeSize)))
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
        const _id = receiptDocId(tenantId, runId, receipt);
        // The same receipt stored twice is a no-op.
        await insertUnlessDuplicate(
          () => receiptsDs.insertAsync({ _id, tenantId, runId, receipt }),
          isUniqueViolation,
        );
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
      guard(() =>
        getOrCreateKey(candidate, {
          insert: () => keysDs.insertAsync({ ...candidate, _id: SIGNING_KEY_ID }),
          stored: async () => {
            const doc = (await keysDs
              .findOneAsync({ _id: SIGNING_KEY_ID })
              .execAsync()) as unknown as KeyDoc | null;
            return doc && (strip(doc) as StoredSigningKey);
          },
          isDuplicate: isUniqueViolation,
        }),
      ),
  };

  return { ledger, checkpoints, receipts, signingKey, close: files.close };
};
