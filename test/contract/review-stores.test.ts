import { afterAll, describe, it } from "vitest";
import { createEmbeddedReviewStore } from "../../src/adapters/embedded/review-store.js";
import {
  createMongoReviewStore,
  ensureReviewIndexes,
  REVIEW_COLLECTIONS,
} from "../../src/adapters/mongo/review-store.js";
import { perDataDir } from "../support/data-dirs.js";
import { type MongoDatabases, mongoDatabasesOnEveryBackend, perDatabase } from "../support/mongo.js";
import { reviewStoreContract } from "./review-store.contract.js";

reviewStoreContract({
  name: "embedded SQLite (in memory)",
  create: () => createEmbeddedReviewStore({ dataDir: null }),
});
reviewStoreContract({
  name: "embedded SQLite (file)",
  ...perDataDir((dataDir) => createEmbeddedReviewStore({ dataDir })),
});

const onEveryBackend = await mongoDatabasesOnEveryBackend("vex_reviews");
const mongo = onEveryBackend[0] as MongoDatabases;
afterAll(() => Promise.all(onEveryBackend.map((m) => m.cleanup())));

describe("MongoDB review store", () => {
  for (const backend of onEveryBackend) {
    reviewStoreContract({
      name: `mongo (${backend.source})`,
      ...perDatabase(backend, async ({ client, dbName, db }) => {
        await ensureReviewIndexes(db);
        return createMongoReviewStore({ client, dbName });
      }),
    });
  }

  it("creates its indexes idempotently", async () => {
    const { db } = await mongo.create();
    await ensureReviewIndexes(db);
    await ensureReviewIndexes(db);
    const names = (await db.collection(REVIEW_COLLECTIONS.reviews).indexes()).map((i) => i.name);
    if (names.length < 5) throw new Error(`expected 4 indexes besides _id, got ${names.join(", ")}`);
  });
});
