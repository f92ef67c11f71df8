import { MongoClient } from "mongodb";
import { afterAll, describe, expect, it } from "vitest";
import {
  createMongoEvolutionStore,
  EVOLUTION_COLLECTIONS,
  EVOLUTION_INDEXES,
  ensureEvolutionIndexes,
  type PoolClaimDoc,
} from "../../src/adapters/mongo/evolution-store.js";
import { tenantKey } from "../../src/adapters/shared/tenant-guard.js";
import { aGenePool } from "../fixtures/evolution-builders.js";
import { type MongoDatabases, mongoDatabasesOnEveryBackend, perDatabase } from "../support/mongo.js";
import { expectIndexes } from "../support/mongo-indexes.js";
import { evolutionStoreContract } from "./evolution-store.contract.js";

const onEveryBackend = await mongoDatabasesOnEveryBackend("vex_evo");
const mongo = onEveryBackend[0] as MongoDatabases;
afterAll(() => Promise.all(onEveryBackend.map((m) => m.cleanup())));

describe("MongoDB evolution store", () => {
  for (const backend of onEveryBackend) {
    const stores = perDatabase(backend, async ({ client, dbName, db }) => {
      await ensureEvolutionIndexes(db);
      return createMongoEvolutionStore({ client, dbName });
    });
    evolutionStoreContract({
      name: `mongo (${backend.source})`,
      ...stores,
      peer: async (store) => {
        const client = await new MongoClient(backend.uri).connect();
        return createMongoEvolutionStore({
          client,
          dbName: stores.resourceOf(store).dbName,
          ownsClient: true,
        });
      },
    });
  }

  it("moves a pointer whose claim's writer died before moving it, so the pool is never stuck", async () => {
    const { client, dbName, db } = await mongo.create();
    await ensureEvolutionIndexes(db);
    const store = createMongoEvolutionStore({ client, dbName });
    const chosen = aGenePool({ role: "CRITIC", evolutions: 1 });
    // What a writer that won version 0 and then died leaves behind: its claim, and no pointer.
    await db.collection<PoolClaimDoc>(EVOLUTION_COLLECTIONS.poolVersions).insertOne({
      _id: `${tenantKey(chosen.tenantId, "CRITIC")}:0`,
      tenantId: chosen.tenantId,
      at: chosen.updatedAt,
      pool: chosen,
    });
    const late = aGenePool({ role: "CRITIC", evolutions: 1 });
    expect(await store.pools.swapPool(chosen.tenantId, late, 0)).toBe(false);
    expect((await store.pools.load(chosen.tenantId)).pools).toStrictEqual([chosen]);
    // The writer that lost rebases onto the moved pointer and moves on from it.
    expect(await store.pools.swapPool(chosen.tenantId, aGenePool({ role: "CRITIC", evolutions: 2 }), 1)).toBe(
      true,
    );
  });

  it("creates every index idempotently", async () => {
    const { db } = await mongo.create();
    await ensureEvolutionIndexes(db);
    await ensureEvolutionIndexes(db);
    for (const [name, expected] of Object.entries(EVOLUTION_INDEXES)) {
      await expectIndexes(db, EVOLUTION_COLLECTIONS[name as keyof typeof EVOLUTION_COLLECTIONS], expected);
    }
  });
});
