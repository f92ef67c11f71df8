import type { Db, MongoClient } from "mongodb";
import type { Review, ReviewDecisionPatch } from "../../domain/review.js";
import type { ReviewStore } from "../../ports/reviews.js";
import { afterCursor, assertPageSize, toPage } from "../shared/cursor.js";
import { insertOrConflict } from "../shared/guard.js";
import { ensureCollectionIndexes } from "./collections.js";
import { guard, isDuplicateKey } from "./errors.js";

export const REVIEW_COLLECTIONS = { reviews: "reviews", decisions: "review_decisions" } as const;

/** Pending lists (tenant, state, newest first), a run's reviews, an agent's review, the timeout sweep. */
const REVIEW_INDEXES = {
  reviews: [
    { key: { tenantId: 1, state: 1, createdAt: -1, _id: -1 } },
    { key: { tenantId: 1, runId: 1, createdAt: 1 } },
    { key: { tenantId: 1, agentId: 1 } },
    { key: { state: 1, deadline: 1 } },
  ],
  // Keyed by the review id (`_id`): no index of its own.
  decisions: [],
} as const;

/** Creates the reviews collection's indexes; idempotent. */
export const ensureReviewIndexes = (db: Db): Promise<void> =>
  ensureCollectionIndexes(db, REVIEW_COLLECTIONS, REVIEW_INDEXES);

type ReviewDoc = Omit<Review, "id"> & { _id: string };
/** The one decision of a review, keyed by the review's id: the unique `_id` picks the winner. */
type DecisionDoc = ReviewDecisionPatch & { _id: string; tenantId: string };
const toDoc = ({ id, ...rest }: Review): ReviewDoc => ({ _id: id, ...rest });
const fromDoc = ({ _id, ...rest }: ReviewDoc): Review => ({ id: _id, ...rest });

/**
 * Reviews on MongoDB: one document each. A decision is first inserted into `review_decisions` with the
 * review's id as `_id`, so exactly one decision (a person's or the timeout's) wins across instances
 * on any server (a conditional findOneAndUpdate is not atomic on FerretDB); the winner then writes it
 * into the review. A loser that finds the review still PENDING (its winner died in between) finishes
 * the winner's write.
 */
export const createMongoReviewStore = (options: { client: MongoClient; dbName: string }): ReviewStore => {
  const db = options.client.db(options.dbName);
  const reviews = db.collection<ReviewDoc>(REVIEW_COLLECTIONS.reviews);
  const decisions = db.collection<DecisionDoc>(REVIEW_COLLECTIONS.decisions);
  const write = async (tenantId: string, id: string, patch: ReviewDecisionPatch) =>
    reviews.findOneAndUpdate({ _id: id, tenantId }, { $set: patch }, { returnDocument: "after" });
  return {
    create: (review) =>
      guard(() =>
        insertOrConflict(() => reviews.insertOne(toDoc(review)), isDuplicateKey, "Review", review.id),
      ),
    get: (tenantId, id) =>
      guard(async () => {
        const doc = await reviews.findOne({ _id: id, tenantId });
        return doc && fromDoc(doc);
      }),
    forAgent: (tenantId, agentId) =>
      guard(async () => {
        const doc = await reviews.findOne({ tenantId, agentId });
        return doc && fromDoc(doc);
      }),
    listByRun: (tenantId, runId) =>
      guard(async () =>
        (await reviews.find({ tenantId, runId }).sort({ createdAt: 1, _id: 1 }).toArray()).map(fromDoc),
      ),
    listPending: (tenantId, page) =>
      guard(async () => {
        assertPageSize(page.first);
        const query = { tenantId, state: "PENDING" as const };
        const filter =
          page.after === undefined ? query : { ...query, $or: afterCursor(page.after, "createdAt", "_id") };
        const docs = await reviews
          .find(filter)
          .sort({ createdAt: -1, _id: -1 })
          .limit(page.first + 1)
          .toArray();
        return toPage(docs, page.first, fromDoc, (r) => ({ createdAt: r.createdAt, id: r.id }));
      }),
    decide: (tenantId, id, patch) =>
      guard(async () => {
        const current = await reviews.findOne({ _id: id, tenantId });
        if (current === null || current.state !== "PENDING") return null;
        try {
          await decisions.insertOne({ ...patch, _id: id, tenantId });
        } catch (e) {
          if (!isDuplicateKey(e)) throw e;
          const won = await decisions.findOne({ _id: id, tenantId });
          if (won !== null) {
            const { _id, tenantId: _t, ...winner } = won;
            await reviews.updateOne({ _id: id, tenantId, state: "PENDING" }, { $set: winner });
          }
          return null;
        }
        const doc = await write(tenantId, id, patch);
        return doc && fromDoc(doc);
      }),
    due: (now, limit) =>
      guard(async () =>
        (
          await reviews
            .find({ state: "PENDING", deadline: { $lte: now } })
            .limit(limit)
            .toArray()
        ).map(fromDoc),
      ),
    close: async () => {},
  };
};
