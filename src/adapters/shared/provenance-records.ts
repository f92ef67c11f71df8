import type { AnchorReceipt } from "../../domain/anchor.js";
import { AppError, ErrorCode } from "../../domain/errors.js";
import type { LedgerEntry } from "../../domain/ledger.js";
import type { LedgerRecord, StoredCheckpoint, StoredSigningKey } from "../../ports/provenance-store.js";
import { insertUnlessDuplicate } from "./guard.js";

/**
 * The write rules of the provenance records, the same on every database: each adapter passes its own
 * reads and inserts and says what its duplicate-key error is. Document ids make the invariants hold:
 * `<tenant>:<index>` keeps ledger indexes unique (a lost race is retried at the next index),
 * `<tenant>:<size>` keeps one checkpoint per tree size. Ids end in `:<number>`, so no two
 * (tenant, number) pairs share one whatever the tenant id holds.
 */

/** How often a ledger append retries after losing the race for an index. @default 16 */
export const MAX_LEDGER_APPEND_ATTEMPTS = 16;

/** The stored documents: the port's records, each with its `_id`. */
export type LedgerDoc = LedgerRecord & { _id: string };
export type CheckpointDoc = StoredCheckpoint & { _id: string };
export type ReceiptDoc = { _id: string; tenantId: string; runId: string; receipt: AnchorReceipt };
export type KeyDoc = StoredSigningKey & { _id: string };

/** The single signing key's document id. */
export const SIGNING_KEY_ID = "ledger-signing-key";

/** The document id of a tenant's ledger record at `index`. */
export const ledgerDocId = (tenantId: string, index: number): string => `${tenantId}:${index}`;

/** The document id of a tenant's checkpoint of `treeSize`. */
export const checkpointDocId = (tenantId: string, treeSize: number): string => `${tenantId}:${treeSize}`;

/** The document id of a receipt: the same receipt of the same run is stored once. */
export const receiptDocId = (tenantId: string, runId: string, receipt: AnchorReceipt): string =>
  JSON.stringify([tenantId, runId, receipt.backend, receipt.anchorId]);

/**
 * Appends at the tenant's next index (`size()`), retrying at the next index while another append wins
 * the race for it (`insert` rejects with a duplicate key); CONFLICT after MAX_LEDGER_APPEND_ATTEMPTS.
 */
export const appendAtNextIndex = async (
  tenantId: string,
  entry: LedgerEntry,
  leafHash: string,
  store: {
    size(): Promise<number>;
    insert(record: LedgerRecord): Promise<unknown>;
    isDuplicate(e: unknown): boolean;
  },
): Promise<LedgerRecord> => {
  for (let attempt = 0; attempt < MAX_LEDGER_APPEND_ATTEMPTS; attempt++) {
    const record: LedgerRecord = { tenantId, index: await store.size(), entry, leafHash };
    if (await insertUnlessDuplicate(() => store.insert(record), store.isDuplicate)) return record;
  }
  throw new AppError(ErrorCode.Conflict, `Ledger append for tenant ${tenantId} kept losing races.`);
};

/**
 * The leaf hashes of indexes `from` … count−1 as read (in index order); NOT_FOUND when the ledger holds
 * fewer than `count` entries.
 */
export const leafHashesOfRange = (
  count: number,
  read: readonly { readonly leafHash: string }[],
  from = 0,
): string[] => {
  if (from + read.length < count) {
    throw new AppError(ErrorCode.NotFound, `The ledger holds fewer than ${count} entries.`);
  }
  return read.map((d) => d.leafHash);
};

/**
 * Stores a checkpoint once per (tenant, tree size): `insert` failing with a duplicate key is fine when
 * the stored one (`stored()`) has the same note, and CONFLICT when it differs.
 */
export const putCheckpointOnce = async (
  checkpoint: StoredCheckpoint,
  store: {
    insert(): Promise<unknown>;
    stored(): Promise<StoredCheckpoint | null>;
    isDuplicate(e: unknown): boolean;
  },
): Promise<void> => {
  try {
    await store.insert();
  } catch (e) {
    if (!store.isDuplicate(e)) throw e;
    const existing = await store.stored();
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
};

/**
 * The stored signing key, or `candidate` once `insert` stored it: the first writer wins, so every
 * server ends up with the same key. Rejects with the duplicate-key error if the key vanished meanwhile.
 */
export const getOrCreateKey = async (
  candidate: StoredSigningKey,
  store: {
    insert(): Promise<unknown>;
    stored(): Promise<StoredSigningKey | null>;
    isDuplicate(e: unknown): boolean;
  },
): Promise<StoredSigningKey> => {
  try {
    await store.insert();
    return candidate;
  } catch (e) {
    if (!store.isDuplicate(e)) throw e;
    const key = await store.stored();
    if (key === null) throw e;
    return key;
  }
};
