import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createMongoEvolutionStore,
  EVOLUTION_COLLECTIONS,
  EVOLUTION_INDEXES,
  ensureEvolutionIndexes,
} from "../../src/adapters/mongo/evolution-store.js";
import type { EvolutionStore } from "../../src/ports/evolution-store.js";
import { startMongoOrSkip } from "../support/mongo.js";
import { evolutionStoreContract } from "./evolution-store.contract.js";

const mongo = await startMongoOrSkip("the MongoDB evolution store contract");

let dbCounter = 0;
/** A database name no other test (or earlier run against the same MONGODB_URI) uses. */
const uniqueDbName = (): string =>
  `vex_evo_${process.pid}_${Date.now().toString(36)}_${(++dbCounter).toString().padStart(3, "0")}`;

describe.skipIf(mongo === null)("MongoDB evolution store", () => {
  let client: MongoClient;
  beforeAll(async () => {
    client = new MongoClient(mongo?.uri ?? "", { serverSelectionTimeoutMS: 10_000 });
    await client.connect();
  });
  afterAll(async () => {
    await client?.close();
    await mongo?.stop();
  });

  const dbNames = new WeakMap<EvolutionStore, string>();
  evolutionStoreContract({
    name: `mongo (${mongo?.source})`,
    create: async () => {
      const dbName = uniqueDbName();
      await ensureEvolutionIndexes(client.db(dbName));
      const store = createMongoEvolutionStore({ client, dbName });
      dbNames.set(store, dbName);
      return store;
    },
    destroy: async (store) => {
      await store.close();
      const dbName = dbNames.get(store);
      if (dbName !== undefined) await client.db(dbName).dropDatabase();
    },
  });

  it("creates every index idempotently", async () => {
    const db = client.db(uniqueDbName());
    try {
      await ensureEvolutionIndexes(db);
      await ensureEvolutionIndexes(db);
      for (const [name, expected] of Object.entries(EVOLUTION_INDEXES)) {
        const collection = EVOLUTION_COLLECTIONS[name as keyof typeof EVOLUTION_COLLECTIONS];
        const listed = await db.collection(collection).listIndexes().toArray();
        const keys = listed.map((ix) =>
          Object.entries(ix.key as Record<string, unknown>).map(([k, v]) => [k, Number(v)]),
        );
        for (const ix of expected) expect(keys).toContainEqual(Object.entries(ix.key));
        expect(listed).toHaveLength(expected.length + 1);
      }
    } finally {
      await db.dropDatabase();
    }
  });
});
