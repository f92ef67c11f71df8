import { afterAll, describe, it } from "vitest";
import {
  createMongoProvenanceStore,
  ensureProvenanceIndexes,
  PROVENANCE_COLLECTIONS,
  PROVENANCE_INDEXES,
} from "../../src/adapters/mongo/provenance-store.js";
import { type MongoDatabases, mongoDatabasesOnEveryBackend, perDatabase } from "../support/mongo.js";
import { expectIndexes } from "../support/mongo-indexes.js";
import { provenanceStoreContract } from "./provenance-store.contract.js";

const onEveryBackend = await mongoDatabasesOnEveryBackend("vex_prov");
const mongo = onEveryBackend[0] as MongoDatabases;
afterAll(() => Promise.all(onEveryBackend.map((m) => m.cleanup())));

describe("MongoDB provenance store", () => {
  for (const backend of onEveryBackend) {
    provenanceStoreContract({
      name: `mongo (${backend.source})`,
      ...perDatabase(backend, async ({ client, dbName, db }) => {
        await ensureProvenanceIndexes(db);
        return createMongoProvenanceStore({ client, dbName });
      }),
    });
  }

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
