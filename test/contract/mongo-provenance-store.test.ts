import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createMongoProvenanceStore,
  ensureProvenanceIndexes,
  PROVENANCE_COLLECTIONS,
  PROVENANCE_INDEXES,
} from "../../src/adapters/mongo/provenance-store.js";
import type { ProvenanceStore } from "../../src/ports/provenance-store.js";
import { startMongoOrSkip } from "../support/mongo.js";
import { provenanceStoreContract } from "./provenance-store.contract.js";

const mongo = await startMongoOrSkip("the MongoDB provenance store contract");

let dbCounter = 0;
/** A database name no other test (or earlier run against the same MONGODB_URI) uses. */
const uniqueDbName = (): string =>
  `vex_prov_${process.pid}_${Date.now().toString(36)}_${(++dbCounter).toString().padStart(3, "0")}`;

describe.skipIf(mongo === null)("MongoDB provenance store", () => {
  let client: MongoClient;
  beforeAll(async () => {
    client = new MongoClient(mongo?.uri ?? "", { serverSelectionTimeoutMS: 10_000 });
    await client.connect();
  });
  afterAll(async () => {
    await client?.close();
    await mongo?.stop();
  });

  const dbNames = new WeakMap<ProvenanceStore, string>();
  provenanceStoreContract({
    name: `mongo (${mongo?.source})`,
    create: async () => {
      const dbName = uniqueDbName();
      await ensureProvenanceIndexes(client.db(dbName));
      const store = createMongoProvenanceStore({ client, dbName });
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
      await ensureProvenanceIndexes(db);
      await ensureProvenanceIndexes(db);
      for (const [name, expected] of Object.entries(PROVENANCE_INDEXES)) {
        if (expected.length === 0) continue;
        const collection = PROVENANCE_COLLECTIONS[name as keyof typeof PROVENANCE_COLLECTIONS];
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
