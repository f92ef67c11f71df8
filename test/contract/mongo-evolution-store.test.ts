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

  it("counts a won claim as the change made, even when the pointer moved on before its writer moved it", async () => {
    const { client, dbName, db } = await mongo.create();
    await ensureEvolutionIndexes(db);
    const tenantId = "tenant-a";
    const other = createMongoEvolutionStore({ client, dbName });
    const first = aGenePool({ tenantId, role: "CRITIC", evolutions: 1 });
    expect(await other.pools.swapPool(tenantId, first, 0)).toBe(true);
    // Between this writer's claim of version 1 and its move of the pointer, another writer loses the
    // claim, completes it (the pointer becomes this writer's pool) and moves the pointer on.
    const mine = aGenePool({ tenantId, role: "CRITIC", evolutions: 2 });
    const next = aGenePool({ tenantId, role: "CRITIC", evolutions: 3 });
    let interleave: (() => Promise<void>) | null = async () => {
      expect(
        await other.pools.swapPool(tenantId, aGenePool({ tenantId, role: "CRITIC", evolutions: 2 }), 1),
      ).toBe(false);
      expect(await other.pools.swapPool(tenantId, next, 2)).toBe(true);
    };
    const claims = db.collection(EVOLUTION_COLLECTIONS.poolVersions);
    const racing = {
      db: () => ({
        collection: (name: string) =>
          name !== EVOLUTION_COLLECTIONS.poolVersions
            ? db.collection(name)
            : Object.assign(Object.create(claims), {
                insertOne: async (doc: PoolClaimDoc) => {
                  const inserted = await claims.insertOne(doc as never);
                  const step = interleave;
                  interleave = null;
                  await step?.();
                  return inserted;
                },
              }),
      }),
    } as unknown as MongoClient;
    const store = createMongoEvolutionStore({ client: racing, dbName });
    // Its change was made (the pointer went through `mine`): the caller must not apply it again.
    expect(await store.pools.swapPool(tenantId, mine, 1)).toBe(true);
    expect(interleave).toBeNull();
    expect((await other.pools.load(tenantId)).pools).toStrictEqual([next]);
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
