import { setTimeout as sleep } from "node:timers/promises";
import type { Db, MongoClient } from "mongodb";
import {
  type AnchorChainStart,
  type AnchorEntry,
  type AnchorReceipt,
  type AnchorRecord,
  type AnchorVerification,
  anchorRecordHash,
  checkpointSeqAtOrBefore,
  GENESIS_START,
  invalid,
  isCheckpointSeq,
  nextAnchorRecord,
  verifyAnchorChain,
  verifyReceiptFields,
  verifyReceiptInChain,
} from "../../domain/anchor.js";
import { AppError, ErrorCode } from "../../domain/errors.js";
import type { AnchorBackend } from "../../ports/anchor.js";
import type { Clock } from "../../ports/clock.js";
import { isDuplicateKey } from "../mongo/errors.js";
import { guardFor } from "../shared/guard.js";

/** Name of the MongoDB backend in receipts. */
export const MONGO_ANCHOR_NAME = "mongo";
/** Collection of the chain. @default "anchors" */
export const DEFAULT_ANCHOR_COLLECTION = "anchors";
/**
 * Collection of the chain's checkpoints: `_id` is a seq (a multiple of `DEFAULT_ANCHOR_CHECKPOINT_INTERVAL`),
 * `prevHash` the hash record `_id` links to. @default "anchor_checkpoints"
 */
export const DEFAULT_ANCHOR_CHECKPOINT_COLLECTION = "anchor_checkpoints";
/** How often an append retries after another writer took its seq. @default 16 */
export const MAX_ANCHOR_APPEND_ATTEMPTS = 16;
/**
 * Longest random pause before retrying a lost append, per attempt so far (a jittered, growing backoff):
 * without it two writers appending back to back can stay in lockstep, one losing every race.
 * @default 4 ms
 */
export const ANCHOR_APPEND_JITTER_MS = 4;

/** A chain record as stored: `_id` is the seq, so the primary key itself forbids two records at one place. */
interface AnchorDoc extends AnchorRecord {
  _id: number;
  /** The record's hash as computed when written; verification recomputes it and compares. */
  hash: string;
}

/** The chain's state after `_id` records: the hash record `_id` must carry as prevHash. */
interface CheckpointDoc {
  _id: number;
  prevHash: string;
}

/** Options of {@link createMongoAnchor}. */
export interface MongoAnchorOptions {
  /** A client built and owned by the caller. */
  readonly client: MongoClient;
  readonly dbName: string;
  readonly clock: Clock;
  readonly collection?: string;
  readonly checkpointCollection?: string;
}

/** Failures leave as STORE_UNAVAILABLE "The MongoDB anchor could not complete the operation." */
const guard = guardFor("MongoDB anchor");

const toRecord = (doc: AnchorDoc): AnchorRecord => ({
  seq: doc.seq,
  prevHash: doc.prevHash,
  anchoredAt: doc.anchoredAt,
  entry: doc.entry,
});

/**
 * The MongoDB anchor: one collection holding a hash chain (the same records as the file anchor). Several
 * servers may append: each reads the last record and inserts the next seq as `_id`; the loser of a race
 * retries. The writer of every `DEFAULT_ANCHOR_CHECKPOINT_INTERVAL`-th record also stores a checkpoint
 * (the hash the next record links to). `verify` reads the checkpoint at or before the receipt's record
 * and the records from there to it, at most one interval, and recomputes every hash. A missing
 * checkpoint (a chain written before checkpoints, a writer that stopped in between) is rebuilt from
 * the nearest earlier one; a stretch that does not recompute from its checkpoint is decided by the
 * chain from seq 0, as before, so a checkpoint alone never makes a receipt valid.
 */
export const createMongoAnchor = (options: MongoAnchorOptions): AnchorBackend => {
  const db: Db = options.client.db(options.dbName);
  const chain = db.collection<AnchorDoc>(options.collection ?? DEFAULT_ANCHOR_COLLECTION);
  const checkpoints = db.collection<CheckpointDoc>(
    options.checkpointCollection ?? DEFAULT_ANCHOR_CHECKPOINT_COLLECTION,
  );

  /**
   * Stores checkpoints (from record hashes the caller recomputed) in one round trip: new ones only, or
   * all of them with `replace` (after the chain from seq 0 recomputed). Two servers storing the same
   * checkpoint store the same hash. Failing to store one costs only speed: verification rebuilds it.
   */
  const storeCheckpoints = async (docs: readonly CheckpointDoc[], replace = false): Promise<void> => {
    if (docs.length === 0) return;
    await checkpoints
      .bulkWrite(
        docs.map((doc) =>
          replace
            ? { replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } }
            : {
                updateOne: {
                  filter: { _id: doc._id },
                  update: { $setOnInsert: { prevHash: doc.prevHash } },
                  upsert: true,
                },
              },
        ),
        { ordered: false },
      )
      .catch(() => undefined);
  };

  /** The checkpoints at multiples of the interval in (start.seq, start.seq + hashes.length]. */
  const checkpointsAfter = (start: AnchorChainStart, hashes: readonly string[]): CheckpointDoc[] => {
    const docs: CheckpointDoc[] = [];
    for (let i = 0; i < hashes.length; i++) {
      const seq = start.seq + i + 1;
      if (isCheckpointSeq(seq)) docs.push({ _id: seq, prevHash: hashes[i]! });
    }
    return docs;
  };

  /** Records `start.seq..receipt.seq` recomputed from `start`, and the hashes recomputed on the way. */
  const verifyFrom = async (
    receipt: AnchorReceipt,
    start: AnchorChainStart,
  ): Promise<{ verification: AnchorVerification; found: boolean; hashes: () => readonly string[] }> => {
    const docs = await chain
      .find({ _id: { $gte: start.seq, $lte: receipt.seq } })
      .sort({ _id: 1 })
      .toArray();
    const records = docs.map(toRecord);
    const stored = docs.map((d) => d.hash);
    return {
      verification: verifyReceiptInChain(receipt, records, stored, start),
      /** Whether the receipt's record is in the chain at all (read by its seq, whatever the start). */
      found: docs.at(-1)?._id === receipt.seq,
      hashes: () => verifyAnchorChain(records, stored, start).hashes,
    };
  };

  return {
    name: MONGO_ANCHOR_NAME,
    anchor: (entry: AnchorEntry) =>
      guard(async (): Promise<AnchorReceipt> => {
        for (let attempt = 0; attempt < MAX_ANCHOR_APPEND_ATTEMPTS; attempt++) {
          const last = await chain.findOne({}, { sort: { _id: -1 } });
          const record = nextAnchorRecord(
            last && { seq: last.seq, hash: last.hash },
            entry,
            options.clock.now(),
          );
          const hash = anchorRecordHash(record);
          try {
            await chain.insertOne({ ...record, _id: record.seq, hash });
          } catch (e) {
            if (!isDuplicateKey(e)) throw e;
            await sleep(Math.random() * ANCHOR_APPEND_JITTER_MS * (attempt + 1));
            continue;
          }
          if (isCheckpointSeq(record.seq + 1))
            await storeCheckpoints([{ _id: record.seq + 1, prevHash: hash }]);
          return {
            ...record,
            backend: MONGO_ANCHOR_NAME,
            anchorId: `${chain.collectionName}#${record.seq}`,
            recordHash: hash,
          };
        }
        throw new AppError(ErrorCode.Conflict, "Anchoring kept losing races for the next record.");
      }),
    verify: (receipt) =>
      guard(async (): Promise<AnchorVerification> => {
        if (receipt.backend !== MONGO_ANCHOR_NAME) return invalid(`not a ${MONGO_ANCHOR_NAME} receipt`);
        const self = verifyReceiptFields(receipt);
        if (!self.valid) return self;
        const from = checkpointSeqAtOrBefore(receipt.seq);
        if (from === 0) return (await verifyFrom(receipt, GENESIS_START)).verification;
        const checkpoint = await checkpoints.findOne({ _id: from });
        let start: AnchorChainStart;
        if (checkpoint !== null) start = { seq: from, prevHash: checkpoint.prevHash };
        else {
          // Not stored yet: recompute from the nearest earlier checkpoint and store the ones on the way.
          const earlier = await checkpoints.findOne({ _id: { $lt: from } }, { sort: { _id: -1 } });
          start = earlier === null ? GENESIS_START : { seq: earlier._id, prevHash: earlier.prevHash };
        }
        const stretch = await verifyFrom(receipt, start);
        if (stretch.verification.valid) {
          if (checkpoint === null) await storeCheckpoints(checkpointsAfter(start, stretch.hashes()));
          return stretch.verification;
        }
        // A record that is not there is not there from seq 0 either; a stretch from seq 0 has decided.
        if (!stretch.found || start.seq === 0) return stretch.verification;
        // The stretch does not recompute from its checkpoint: the chain from seq 0 decides, and when it
        // recomputes, the checkpoints up to the receipt are put right.
        const whole = await verifyFrom(receipt, GENESIS_START);
        if (whole.verification.valid)
          await storeCheckpoints(checkpointsAfter(GENESIS_START, whole.hashes()), true);
        return whole.verification;
      }),
    close: async () => {},
  };
};
