import { join } from "node:path";
import { afterAll } from "vitest";
import { createApiKeyFileStore } from "../../src/adapters/embedded/api-key-file-store.js";
import { createMongoApiKeyStore, ensureApiKeyIndexes } from "../../src/adapters/mongo/api-key-store.js";
import { perDataDir } from "../support/data-dirs.js";
import { mongoDatabases, perDatabase } from "../support/mongo.js";
import { apiKeyStoreContract } from "./api-key-store.contract.js";

apiKeyStoreContract({
  name: "key file",
  ...perDataDir((dir) => createApiKeyFileStore(join(dir, "api-keys.json"))),
});

const mongo = await mongoDatabases("vex_keys");
afterAll(mongo.cleanup);
apiKeyStoreContract({
  name: `mongo (${mongo.source})`,
  ...perDatabase(mongo, async ({ client, dbName, db }) => {
    await ensureApiKeyIndexes(db);
    return createMongoApiKeyStore({ client, dbName });
  }),
});
