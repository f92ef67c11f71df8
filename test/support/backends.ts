import { randomBytes, randomUUID } from "node:crypto";
import { openApiKeyStore } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { API_KEY_RANDOM_BYTES, formatApiKey, hashApiKey } from "../../src/domain/api-key.js";
import { mongoDatabases } from "./mongo.js";
import { connectRedis, redisUrl } from "./redis.js";

/**
 * Where an end-to-end suite's server keeps its data and sends its events: the embedded store with
 * the in-process bus, or MongoDB with the Redis bus. Suites take one and run the same tests on it
 * (one test file per backend).
 */
export interface ServerBackend {
  readonly name: string;
  /** Where a server on this backend anchors its checkpoints by default (VEX_ANCHORS unset). */
  readonly defaultAnchor: "file" | "mongo";
  /** Environment of a server on a fresh database; every server given the same value shares it. */
  env(): Promise<Record<string, string>>;
  /** Drops what `env` created and releases the backend. */
  cleanup(): Promise<void>;
}

/** The embedded store in the server's data dir, and the in-process bus. */
export const embeddedBackend = (): ServerBackend => ({
  name: "embedded store, in-process bus",
  defaultAnchor: "file",
  env: async () => ({}),
  cleanup: async () => {},
});

/**
 * `uri` with its database (the path) replaced by `dbName`, keeping the hosts and every query
 * parameter (credentials, replicaSet, tls, …).
 */
export const withDatabase = (uri: string, dbName: string): string => {
  const m = /^(mongodb(?:\+srv)?:\/\/[^/?]+)(?:\/[^?]*)?(\?.*)?$/.exec(uri);
  if (!m) throw new Error(`not a MongoDB URI: ${uri}`);
  return `${m[1]}/${dbName}${m[2] ?? ""}`;
};

/**
 * MongoDB (MONGODB_URI, else FerretDB) with a database of its own per `env()`, dropped by
 * `cleanup`, and the Redis bus. Fails (never skips) when either is missing.
 */
export const mongoRedisBackend = async (prefix: string): Promise<ServerBackend> => {
  (await connectRedis()).disconnect();
  const databases = await mongoDatabases(prefix);
  return {
    name: `MongoDB (${databases.source}), Redis bus`,
    defaultAnchor: "mongo",
    env: async () => ({
      MONGODB_URI: withDatabase(databases.uri, (await databases.create()).dbName),
      REDIS_URL: redisUrl(),
      // A queue, run slots and rate counters of its own on a Redis other test runs share.
      VEX_REDIS_PREFIX: `${prefix}-${randomUUID().slice(0, 8)}`,
    }),
    cleanup: () => databases.cleanup(),
  };
};

/**
 * Creates an API key for a tenant where a server with `env` and `dataDir` looks keys up (the key
 * file, or MongoDB), as `vex keys create` does; returns the key and its id.
 */
export const createKeyFor = async (env: Record<string, string>, dataDir: string, tenantId: string) => {
  const store = await openApiKeyStore(loadConfig({ ...env, VEX_DATA_DIR: dataDir }));
  try {
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
    return { key, id };
  } finally {
    await store.close();
  }
};
