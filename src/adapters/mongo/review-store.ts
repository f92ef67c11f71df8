import type { Db, MongoClient } from "mongodb";
import type { Review } from "../../domain/review.js";
import type { ReviewStore } from "../../ports/reviews.js";
import { afterCursor, assertPageSize, toPage } from "../shared/cursor.js";
import { insertOrConflict } from "../shared/guard.js";
import { ensureCollectionIndexes } from "./collections.js";
import { guard, isDuplicateKey } from "./errors.js";

export const REVIEW_COLLECTIONS = { reviews: "reviews" } as const;

/** Pending lists (tenant, state, newest first), a run's reviews, an agent's review, the timeout sweep. */
const REVIEW_INDEXES = {
  reviews: [
    { key: { tenantId: 1, state: 1, createdAt: -1, _id: -1 } },
    { key: { tenantId: 1, runId: 1, createdAt: 1 } },
    { key: { tenantId: 1, agentId: 1 } },
    { key: { state: 1, deadline: 1 } },
  ],
} as const;

/** Creates the reviews collection's indexes; idempotent. */
export const ensureReviewIndexes = (db: Db): Promise<void> =>
  ensureCollectionIndexes(db, REVIEW_COLLECTIONS, REVIEW_INDEXES);

type ReviewDoc = Omit<Review, "id"> & { _id: string };
const toDoc = ({ id, ...rest }: Review): ReviewDoc => ({ _id: id, ...rest });
const fromDoc = ({ _id, ...rest }: ReviewDoc): Review => ({ id: _id, ...rest });

/**
 * Reviews on MongoDB: one document each; a decision is a findOneAndUpdate conditioned on PENDING, so
 * exactly one decision (a person's or the timeout's) wins across instances.
 */
export const createMongoReviewStore = (options: { client: MongoClient; dbName: string }): ReviewStore => {
  const reviews = options.client.db(options.dbName).collection<ReviewDoc>(REVIEW_COLLECTIONS.reviews);
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
        const doc = await reviews.findOneAndUpdate(
          { _id: id, tenantId, state: "PENDING" },
          { $set: patch },
          { returnDocument: "after" },
        );
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
