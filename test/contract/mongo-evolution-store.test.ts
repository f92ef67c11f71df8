import { afterAll, describe, it } from "vitest";
import {
  createMongoEvolutionStore,
  EVOLUTION_COLLECTIONS,
  EVOLUTION_INDEXES,
  ensureEvolutionIndexes,
} from "../../src/adapters/mongo/evolution-store.js";
import { type MongoDatabases, mongoDatabasesOnEveryBackend, perDatabase } from "../support/mongo.js";
import { expectIndexes } from "../support/mongo-indexes.js";
import { evolutionStoreContract } from "./evolution-store.contract.js";

const onEveryBackend = await mongoDatabasesOnEveryBackend("vex_evo");
const mongo = onEveryBackend[0] as MongoDatabases;
afterAll(() => Promise.all(onEveryBackend.map((m) => m.cleanup())));

describe("MongoDB evolution store", () => {
  for (const backend of onEveryBackend) {
    evolutionStoreContract({
      name: `mongo (${backend.source})`,
      ...perDatabase(backend, async ({ client, dbName, db }) => {
        await ensureEvolutionIndexes(db);
        return createMongoEvolutionStore({ client, dbName });
      }),
    });
  }

  it("creates every index idempotently", async () => {
    const { db } = await mongo.create();
    await ensureEvolutionIndexes(db);
    await ensureEvolutionIndexes(db);
    for (const [name, expected] of Object.entries(EVOLUTION_INDEXES)) {
      await expectIndexes(db, EVOLUTION_COLLECTIONS[name as keyof typeof EVOLUTION_COLLECTIONS], expected);
    }
  });
});
