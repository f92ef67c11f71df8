import { canonicalJson, sha256Hex } from "./canonical.js";
import { isHashHex } from "./merkle.js";

/**
 * Anchoring: a signed ledger checkpoint is written to an append-only hash chain (a JSONL file, a MongoDB
 * collection). Each record carries the hash of the previous one, so changing, removing or reordering any
 * record breaks every later link. Receipts are re-verified by recomputing hashes, never by comparing
 * stored strings alone.
 */

/** What is anchored: one signed checkpoint of a tenant's ledger, and the run whose entry it first covers. */
export interface AnchorEntry {
  /** The tenant's ledger origin (the checkpoint's first line). */
  readonly origin: string;
  readonly runId: string;
  readonly treeSize: number;
  /** The checkpoint's root hash (hex). */
  readonly rootHash: string;
  /** SHA-256 (hex) of the whole signed checkpoint note, signature lines included (UTF-8). */
  readonly checkpointHash: string;
}

/** One link of an anchor chain. Its hash is SHA-256 of its line: the RFC 8785 canonical JSON of the record. */
export interface AnchorRecord {
  /** 0-based position in the chain. */
  readonly seq: number;
  /** Hash of the previous record's line; {@link GENESIS_PREV_HASH} for the first. */
  readonly prevHash: string;
  /** ISO 8601 UTC time of anchoring, exactly as hashed. */
  readonly anchoredAt: string;
  readonly entry: AnchorEntry;
}

/** What a backend returns for an anchored entry: the record's fields, its hash and where to find it. */
export interface AnchorReceipt extends AnchorRecord {
  /** The backend's name ("file", "mongo"). */
  readonly backend: string;
  /** Where the record lives in that backend, e.g. `anchors.jsonl#12`. */
  readonly anchorId: string;
  /** SHA-256 (hex) of the record's line. */
  readonly recordHash: string;
}

/** The outcome of re-verifying a receipt or a chain. */
export interface AnchorVerification {
  readonly valid: boolean;
  /** Why it failed; null when valid. */
  readonly reason: string | null;
}

/** prevHash of a chain's first record. */
export const GENESIS_PREV_HASH = "0".repeat(64);

/** The outcome of a check that passed. */
export const VALID: AnchorVerification = Object.freeze({ valid: true, reason: null });
/** The outcome of a check that failed, and why. */
export const invalid = (reason: string): AnchorVerification => ({ valid: false, reason });

/** The record's line: RFC 8785 canonical JSON of exactly its four fields (the entry's five). */
export const anchorRecordLine = (record: AnchorRecord): string => {
  const { origin, runId, treeSize, rootHash, checkpointHash } = record.entry;
  return canonicalJson({
    seq: record.seq,
    prevHash: record.prevHash,
    anchoredAt: record.anchoredAt,
    entry: { origin, runId, treeSize, rootHash, checkpointHash },
  });
};

/** SHA-256 (hex) of the record's line. */
export const anchorRecordHash = (record: AnchorRecord): string => sha256Hex(anchorRecordLine(record));

/** The record that follows `previous` (null for the first) in a chain. */
export const nextAnchorRecord = (
  previous: { readonly seq: number; readonly hash: string } | null,
  entry: AnchorEntry,
  anchoredAt: Date,
): AnchorRecord => ({
  seq: previous === null ? 0 : previous.seq + 1,
  prevHash: previous === null ? GENESIS_PREV_HASH : previous.hash,
  anchoredAt: anchoredAt.toISOString(),
  entry,
});

/** Parses one line of an anchor chain; null unless it is the canonical line of a well-formed record. */
export const parseAnchorLine = (line: string): AnchorRecord | null => {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (!isRecord(value)) return null;
  return anchorRecordLine(value) === line ? value : null;
};

/**
 * Records between two checkpoints of a chain: a backend stores the chain's state after every this many
 * records (seq 32, 64, …), so verifying a receipt reads at most this many records and one checkpoint,
 * however long the chain. @default 32
 */
export const DEFAULT_ANCHOR_CHECKPOINT_INTERVAL = 32;

/** Where a stretch of chain starts: the seq of its first record and the hash that record must carry as prevHash. */
export interface AnchorChainStart {
  readonly seq: number;
  readonly prevHash: string;
}

/** The start of every chain: seq 0, linked to {@link GENESIS_PREV_HASH}. */
export const GENESIS_START: AnchorChainStart = Object.freeze({ seq: 0, prevHash: GENESIS_PREV_HASH });

/** The seq of the last checkpoint at or before `seq` (0, the genesis, below the first checkpoint). */
export const checkpointSeqAtOrBefore = (seq: number, interval = DEFAULT_ANCHOR_CHECKPOINT_INTERVAL): number =>
  seq - (seq % interval);

/** Whether the chain's state after `count` records is one a backend keeps as a checkpoint. */
export const isCheckpointSeq = (count: number, interval = DEFAULT_ANCHOR_CHECKPOINT_INTERVAL): boolean =>
  count > 0 && count % interval === 0;

/**
 * Recomputes a stretch of chain from `start` (the first record by default): every record must sit at its
 * position, link to the hash recomputed from the previous record (the first to `start.prevHash`), and
 * (when given) match the hash stored beside it. `hashes[i]` is the recomputed hash of `records[i]`.
 */
export const verifyAnchorChain = (
  records: readonly AnchorRecord[],
  storedHashes?: readonly (string | undefined)[],
  start: AnchorChainStart = GENESIS_START,
): AnchorVerification & { readonly hashes: readonly string[] } => {
  const hashes: string[] = [];
  let prev = start.prevHash;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    const seq = start.seq + i;
    if (record.seq !== seq) return { ...invalid(`record ${seq} has seq ${record.seq}`), hashes };
    if (record.prevHash !== prev)
      return { ...invalid(`chain broken at record ${seq}: prevHash mismatch`), hashes };
    prev = anchorRecordHash(record);
    const stored = storedHashes?.[i];
    if (stored !== undefined && stored !== prev) {
      return { ...invalid(`record ${seq} does not hash to its stored hash`), hashes };
    }
    hashes.push(prev);
  }
  return { ...VALID, hashes };
};

/**
 * Checks a receipt against the chain it claims to be in (`records`, from `start` — the first record by
 * default — up to at least the receipt's seq): the stretch recomputes, the receipt's own fields hash to
 * its recordHash, and that hash is the recomputed hash of the record at its position.
 */
export const verifyReceiptInChain = (
  receipt: AnchorReceipt,
  records: readonly AnchorRecord[],
  storedHashes?: readonly (string | undefined)[],
  start: AnchorChainStart = GENESIS_START,
): AnchorVerification => {
  const self = verifyReceiptFields(receipt);
  if (!self.valid) return self;
  if (receipt.seq < start.seq) return invalid(`record ${receipt.seq} lies before the checked stretch`);
  const position = receipt.seq - start.seq;
  if (position >= records.length) return invalid(`record ${receipt.seq} is missing from the chain`);
  const chain = verifyAnchorChain(
    records.slice(0, position + 1),
    storedHashes?.slice(0, position + 1),
    start,
  );
  if (!chain.valid) return { valid: chain.valid, reason: chain.reason };
  return chain.hashes[position] === receipt.recordHash
    ? VALID
    : invalid(`record ${receipt.seq} in the chain differs from the receipt`);
};

/** Recomputes a receipt's recordHash from its own fields (no access to the chain needed). */
export const verifyReceiptFields = (receipt: AnchorReceipt): AnchorVerification => {
  if (!isRecord(receipt)) return invalid("the receipt is malformed");
  return anchorRecordHash(receipt) === receipt.recordHash
    ? VALID
    : invalid("the receipt's fields do not hash to its recordHash");
};

const isRecord = (v: unknown): v is AnchorRecord => {
  if (typeof v !== "object" || v === null) return false;
  const r = v as Record<string, unknown>;
  const e = r.entry as Record<string, unknown> | null | undefined;
  return (
    Number.isSafeInteger(r.seq) &&
    (r.seq as number) >= 0 &&
    isHashHex(r.prevHash) &&
    typeof r.anchoredAt === "string" &&
    typeof e === "object" &&
    e !== null &&
    typeof e.origin === "string" &&
    typeof e.runId === "string" &&
    Number.isSafeInteger(e.treeSize) &&
    isHashHex(e.rootHash) &&
    isHashHex(e.checkpointHash)
  );
};
