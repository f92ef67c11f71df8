import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureIndexes, INDEXES } from "../../src/adapters/mongo/collections.js";
import { createMongoStore } from "../../src/adapters/mongo/mongo-store.js";
import type { Store } from "../../src/ports/stores.js";
import { startMongoOrSkip } from "../support/mongo.js";
import { storeContract } from "./store.contract.js";

const mongo = await startMongoOrSkip("the MongoDB store contract");

let dbCounter = 0;
/** A database name no other test (or earlier run against the same MONGODB_URI) uses. */
const uniqueDbName = (): string =>
  `vex_test_${process.pid}_${Date.now().toString(36)}_${(++dbCounter).toString().padStart(3, "0")}`;

describe.skipIf(mongo === null)("MongoDB store", () => {
  let client: MongoClient;

  beforeAll(async () => {
    client = new MongoClient(mongo?.uri ?? "", { serverSelectionTimeoutMS: 10_000 });
    await client.connect();
  });
  afterAll(async () => {
    await client?.close();
    await mongo?.stop();
  });

  const dbNames = new WeakMap<Store, string>();
  storeContract({
    name: `mongo (${mongo?.source})`,
    create: async () => {
      const dbName = uniqueDbName();
      await ensureIndexes(client.db(dbName));
      const store = createMongoStore({ client, dbName, ownsClient: false });
      dbNames.set(store, dbName);
      return store;
    },
    destroy: async (store) => {
      await store.close();
      const dbName = dbNames.get(store);
      if (dbName !== undefined) await client.db(dbName).dropDatabase();
    },
  });

  describe("ensureIndexes", () => {
    it("creates every index of every collection, idempotently", async () => {
      const db = client.db(uniqueDbName());
      try {
        await ensureIndexes(db);
        await ensureIndexes(db);
        for (const [collection, expected] of Object.entries(INDEXES)) {
          const listed = await db.collection(collection).listIndexes().toArray();
          const keys = listed.map((ix) =>
            Object.entries(ix.key as Record<string, unknown>).map(([k, v]) => [k, Number(v)]),
          );
          expect(keys).toContainEqual([["_id", 1]]);
          for (const ix of expected) {
            expect(keys).toContainEqual(Object.entries(ix.key));
          }
          expect(listed).toHaveLength(expected.length + 1);
          const unique = listed.filter((ix) => ix.unique === true).map((ix) => Object.keys(ix.key as object));
          expect(unique).toStrictEqual(expected.filter((ix) => ix.unique).map((ix) => Object.keys(ix.key)));
        }
      } finally {
        await db.dropDatabase();
      }
    });
  });
});
