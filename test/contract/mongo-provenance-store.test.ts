import { afterAll, describe, it } from "vitest";
import {
  createMongoProvenanceStore,
  ensureProvenanceIndexes,
  PROVENANCE_COLLECTIONS,
  PROVENANCE_INDEXES,
} from "../../src/adapters/mongo/provenance-store.js";
import { mongoDatabases, perDatabase } from "../support/mongo.js";
import { expectIndexes } from "../support/mongo-indexes.js";
import { provenanceStoreContract } from "./provenance-store.contract.js";

const mongo = await mongoDatabases("vex_prov");
afterAll(mongo.cleanup);

describe("MongoDB provenance store", () => {
  provenanceStoreContract({
    name: `mongo (${mongo.source})`,
    ...perDatabase(mongo, async ({ client, dbName, db }) => {
      await ensureProvenanceIndexes(db);
      return createMongoProvenanceStore({ client, dbName });
    }),
  });

  it("creates every index idempotently", async () => {
    const { db } = await mongo.create();
    await ensureProvenanceIndexes(db);
    await ensureProvenanceIndexes(db);
    for (const [name, expected] of Object.entries(PROVENANCE_INDEXES)) {
      // A collection without indexes of its own is not created by ensureProvenanceIndexes.
      if (expected.length === 0) continue;
      await expectIndexes(db, PROVENANCE_COLLECTIONS[name as keyof typeof PROVENANCE_COLLECTIONS], expected);
    }
  });
});
