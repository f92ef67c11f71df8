import { MongoClient } from "mongodb";
import { createMongoAnchor } from "../adapters/anchor/mongo-anchor.js";
import { createMongoApiKeyStore, ensureApiKeyIndexes } from "../adapters/mongo/api-key-store.js";
import { ensureIndexes } from "../adapters/mongo/collections.js";
import { createMongoEvolutionStore, ensureEvolutionIndexes } from "../adapters/mongo/evolution-store.js";
import { createMongoStore } from "../adapters/mongo/mongo-store.js";
import { createMongoProvenanceStore, ensureProvenanceIndexes } from "../adapters/mongo/provenance-store.js";
import { createMongoReviewStore, ensureReviewIndexes } from "../adapters/mongo/review-store.js";
import type { Config } from "../config.js";
import type { ApiKeyStore } from "../ports/api-keys.js";
import type { Clock } from "../ports/clock.js";
import { openAnchors } from "./anchors.js";
import type { Backends } from "./backends.js";
import { redactUrl, StartupError } from "./startup-error.js";

/** Database used when MONGODB_URI names none. */
export const DEFAULT_MONGO_DB = "vex";

type MongoSettings = Extract<Config["store"], { kind: "mongo" }>;
/** The database a MongoDB URI names, or DEFAULT_MONGO_DB. */
export const mongoDbName = (uri: string): string => {
  const path = /^mongodb(?:\+srv)?:\/\/[^/]*\/([^?]*)/.exec(uri)?.[1];
  return path ? decodeURIComponent(path) : DEFAULT_MONGO_DB;
};

/** Connects to MONGODB_URI or refuses to start with a message naming it. */
const connectMongo = async (uri: string, timeoutMs: number): Promise<MongoClient> => {
  // A short selection timeout turns a lost database into a clear STORE_UNAVAILABLE instead of hung requests.
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: timeoutMs, connectTimeoutMS: timeoutMs });
  try {
    await client.connect();
    await client.db(mongoDbName(uri)).command({ ping: 1 });
    return client;
  } catch (e) {
    await client.close().catch(() => undefined);
    throw new StartupError(
      `Cannot reach MongoDB at MONGODB_URI (${redactUrl(uri)}): ${e instanceof Error ? e.message : String(e)}`,
    );
  }
};

/** The deployment's stores on MongoDB: one client, indexes created explicitly. */
export const openMongoBackends = async (
  { uri, timeoutMs }: MongoSettings,
  config: Config,
  clock: Clock,
): Promise<Backends> => {
  const client = await connectMongo(uri, timeoutMs);
  const dbName = mongoDbName(uri);
  const db = client.db(dbName);
  await ensureIndexes(db);
  await ensureApiKeyIndexes(db);
  await ensureEvolutionIndexes(db);
  await ensureProvenanceIndexes(db);
  await ensureReviewIndexes(db);
  const anchors = openAnchors(config, clock, () => createMongoAnchor({ client, dbName, clock }));
  return {
    store: createMongoStore({ client, dbName }),
    keys: createMongoApiKeyStore({ client, dbName }),
    evolution: createMongoEvolutionStore({ client, dbName }),
    provenance: createMongoProvenanceStore({ client, dbName }),
    reviews: createMongoReviewStore({ client, dbName }),
    anchors,
    close: async () => {
      for (const a of anchors) await a.close();
      await client.close();
    },
  };
};

/** The API key store alone on MongoDB, for the `vex keys` CLI. */
export const openMongoApiKeyStore = async ({ uri, timeoutMs }: MongoSettings): Promise<ApiKeyStore> => {
  const client = await connectMongo(uri, timeoutMs);
  const dbName = mongoDbName(uri);
  await ensureApiKeyIndexes(client.db(dbName));
  return createMongoApiKeyStore({ client, dbName, ownsClient: true });
};
