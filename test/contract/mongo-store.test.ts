import { afterAll, describe, it } from "vitest";
import { ensureIndexes, INDEXES } from "../../src/adapters/mongo/collections.js";
import { createMongoStore } from "../../src/adapters/mongo/mongo-store.js";
import { mongoDatabases, perDatabase } from "../support/mongo.js";
import { expectIndexes } from "../support/mongo-indexes.js";
import { storeContract } from "./store.contract.js";

const mongo = await mongoDatabases("vex_test");
afterAll(mongo.cleanup);

describe("MongoDB store", () => {
  storeContract({
    name: `mongo (${mongo.source})`,
    ...perDatabase(mongo, async ({ client, dbName, db }) => {
      await ensureIndexes(db);
      return createMongoStore({ client, dbName, ownsClient: false });
    }),
  });

  describe("ensureIndexes", () => {
    it("creates every index of every collection, idempotently", async () => {
      const { db } = await mongo.create();
      await ensureIndexes(db);
      await ensureIndexes(db);
      for (const [collection, expected] of Object.entries(INDEXES)) {
        await expectIndexes(db, collection, expected);
      }
    });
  });
});
