import { afterAll, describe, it } from "vitest";
import {
  createMongoEvolutionStore,
  EVOLUTION_COLLECTIONS,
  EVOLUTION_INDEXES,
  ensureEvolutionIndexes,
} from "../../src/adapters/mongo/evolution-store.js";
import { mongoDatabases, perDatabase } from "../support/mongo.js";
import { expectIndexes } from "../support/mongo-indexes.js";
import { evolutionStoreContract } from "./evolution-store.contract.js";

const mongo = await mongoDatabases("vex_evo");
afterAll(mongo.cleanup);

describe("MongoDB evolution store", () => {
  evolutionStoreContract({
    name: `mongo (${mongo.source})`,
    ...perDatabase(mongo, async ({ client, dbName, db }) => {
      await ensureEvolutionIndexes(db);
      return createMongoEvolutionStore({ client, dbName });
    }),
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
