import type { Db, MongoClient } from "mongodb";
import {
  type AnchorEntry,
  type AnchorReceipt,
  type AnchorRecord,
  anchorRecordHash,
  invalid,
  nextAnchorRecord,
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
/** How often an append retries after another writer took its seq. @default 16 */
export const MAX_ANCHOR_APPEND_ATTEMPTS = 16;

/** A chain record as stored: `_id` is the seq, so the primary key itself forbids two records at one place. */
interface AnchorDoc extends AnchorRecord {
  _id: number;
  /** The record's hash as computed when written; verification recomputes it and compares. */
  hash: string;
}

/** Options of {@link createMongoAnchor}. */
export interface MongoAnchorOptions {
  /** A client built and owned by the caller. */
  readonly client: MongoClient;
  readonly dbName: string;
  readonly clock: Clock;
  readonly collection?: string;
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
 * retries. `verify` reads the chain from seq 0 to the receipt's record and recomputes every hash.
 */
export const createMongoAnchor = (options: MongoAnchorOptions): AnchorBackend => {
  const db: Db = options.client.db(options.dbName);
  const chain = db.collection<AnchorDoc>(options.collection ?? DEFAULT_ANCHOR_COLLECTION);

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
            if (isDuplicateKey(e)) continue;
            throw e;
          }
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
      guard(async () => {
        if (receipt.backend !== MONGO_ANCHOR_NAME) return invalid(`not a ${MONGO_ANCHOR_NAME} receipt`);
        const docs = await chain
          .find({ _id: { $lte: receipt.seq } })
          .sort({ _id: 1 })
          .toArray();
        return verifyReceiptInChain(
          receipt,
          docs.map(toRecord),
          docs.map((d) => d.hash),
        );
      }),
    close: async () => {},
  };
};
