import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MongoClient } from "mongodb";
import { afterAll } from "vitest";
import { createApiKeyFileStore } from "../../src/adapters/embedded/api-key-file-store.js";
import { createMongoApiKeyStore, ensureApiKeyIndexes } from "../../src/adapters/mongo/api-key-store.js";
import { startMongo } from "../support/mongo.js";
import { apiKeyStoreContract } from "./api-key-store.contract.js";

apiKeyStoreContract({
  name: "key file",
  create: async () =>
    createApiKeyFileStore(join(await mkdtemp(join(tmpdir(), "vex-keys-")), "api-keys.json")),
});

const mongo = await startMongo();
const client = new MongoClient(mongo.uri);
let n = 0;
afterAll(async () => {
  await client.close();
  await mongo.stop();
});
apiKeyStoreContract({
  name: `mongo (${mongo.source})`,
  create: async () => {
    const db = client.db(`vex_keys_${process.pid}_${++n}`);
    await db.dropDatabase();
    await ensureApiKeyIndexes(db);
    return createMongoApiKeyStore(db);
  },
});
