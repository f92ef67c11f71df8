import { randomBytes, randomUUID } from "node:crypto";
import { join } from "node:path";
import { createApiKeyFileStore } from "../../src/adapters/embedded/api-key-file-store.js";
import { API_KEY_FILE } from "../../src/app.js";
import { API_KEY_RANDOM_BYTES, formatApiKey, hashApiKey } from "../../src/domain/api-key.js";

/** Creates an API key for a tenant in a data dir's key file, as `vex keys create` does; returns the key and its id. */
export const createTestKey = async (dataDir: string, tenantId: string) => {
  const store = await createApiKeyFileStore(join(dataDir, API_KEY_FILE));
  const key = formatApiKey(randomBytes(API_KEY_RANDOM_BYTES));
  const id = `key_${randomUUID().slice(0, 8)}`;
  await store.create({
    id,
    tenantId,
    hash: hashApiKey(key),
    label: null,
    createdAt: new Date(),
    revokedAt: null,
  });
  return { key, id, revoke: () => store.revoke(id, new Date()) };
};

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
