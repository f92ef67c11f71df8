import { join } from "node:path";
import { MongoClient } from "mongodb";
import { createFileAnchor } from "../adapters/anchor/file-anchor.js";
import { createMongoAnchor } from "../adapters/anchor/mongo-anchor.js";
import { createApiKeyFileStore } from "../adapters/embedded/api-key-file-store.js";
import { createEmbeddedStore } from "../adapters/embedded/embedded-store.js";
import { createEmbeddedEvolutionStore } from "../adapters/embedded/evolution-store.js";
import { createEmbeddedProvenanceStore } from "../adapters/embedded/provenance-store.js";
import { createEmbeddedReviewStore } from "../adapters/embedded/review-store.js";
import { openEmbeddedDatabase } from "../adapters/embedded/sqlite.js";
import { createMongoApiKeyStore, ensureApiKeyIndexes } from "../adapters/mongo/api-key-store.js";
import { ensureIndexes } from "../adapters/mongo/collections.js";
import { createMongoEvolutionStore, ensureEvolutionIndexes } from "../adapters/mongo/evolution-store.js";
import { createMongoStore } from "../adapters/mongo/mongo-store.js";
import { createMongoProvenanceStore, ensureProvenanceIndexes } from "../adapters/mongo/provenance-store.js";
import { createMongoReviewStore, ensureReviewIndexes } from "../adapters/mongo/review-store.js";
import type { Config } from "../config.js";
import { UnreachableCaseError } from "../domain/errors.js";
import type { AnchorBackend } from "../ports/anchor.js";
import type { ApiKeyStore } from "../ports/api-keys.js";
import type { Clock } from "../ports/clock.js";
import type { EvolutionStore } from "../ports/evolution-store.js";
import type { ProvenanceStore } from "../ports/provenance-store.js";
import type { ReviewStore } from "../ports/reviews.js";
import type { Store } from "../ports/stores.js";
import { redactUrl, StartupError } from "./startup-error.js";

/** File of the embedded deployment's API keys, inside VEX_DATA_DIR. */
export const API_KEY_FILE = "api-keys.json";
/** Database used when MONGODB_URI names none. */
export const DEFAULT_MONGO_DB = "vex";

/** Every store of the deployment, on one backend. Whoever opens them closes them with close(). */
export interface Backends {
  readonly store: Store;
  readonly keys: ApiKeyStore;
  readonly evolution: EvolutionStore;
  readonly provenance: ProvenanceStore;
  /** Human reviews waiting for (or decided by) a person. */
  readonly reviews: ReviewStore;
  readonly anchors: readonly AnchorBackend[];
  close(): Promise<void>;
}

/** Where opening the stores reports what it did once (an import of old data files). */
export interface StartupLog {
  info(details: object, message: string): void;
}

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

/** Opens the embedded database of VEX_DATA_DIR or refuses to start with the reason. */
const openEmbedded = (dataDir: string) => {
  try {
    return openEmbeddedDatabase({ dataDir });
  } catch (e) {
    throw new StartupError(e instanceof Error ? e.message : String(e), { cause: e });
  }
};

const anchorsFor = (config: Config, clock: Clock, mongo?: { client: MongoClient; dbName: string }) =>
  config.provenance.anchors.map((name): AnchorBackend => {
    switch (name) {
      case "file":
        return createFileAnchor({ path: config.provenance.anchorFile, clock });
      case "mongo":
        if (!mongo) throw new StartupError("VEX_ANCHORS=mongo needs MONGODB_URI.");
        return createMongoAnchor({ ...mongo, clock });
      default:
        throw new UnreachableCaseError(name);
    }
  });

/**
 * Opens the deployment's stores: MongoDB when MONGODB_URI is set (one client, indexes created
 * explicitly), else the embedded SQLite database in VEX_DATA_DIR (importing an old NeDB folder once).
 */
export const openBackends = async (config: Config, clock: Clock, log?: StartupLog): Promise<Backends> => {
  if (config.store.kind === "embedded") {
    const { dataDir } = config.store;
    const database = openEmbedded(dataDir);
    if (database.imported !== null) {
      log?.info(database.imported, "imported the NeDB data files of VEX_DATA_DIR into the SQLite database");
    }
    const store = await createEmbeddedStore({ database });
    const keys = await createApiKeyFileStore(join(dataDir, API_KEY_FILE));
    const evolution = await createEmbeddedEvolutionStore({ database });
    const provenance = await createEmbeddedProvenanceStore({ database });
    const reviews = await createEmbeddedReviewStore({ database });
    const anchors = anchorsFor(config, clock);
    return {
      store,
      keys,
      evolution,
      provenance,
      reviews,
      anchors,
      close: async () => {
        for (const a of anchors) await a.close();
        await Promise.all([keys.close(), evolution.close(), provenance.close(), reviews.close()]);
        await store.close();
        database.close();
      },
    };
  }
  const { uri, timeoutMs } = config.store;
  const client = await connectMongo(uri, timeoutMs);
  const dbName = mongoDbName(uri);
  const db = client.db(dbName);
  await ensureIndexes(db);
  await ensureApiKeyIndexes(db);
  await ensureEvolutionIndexes(db);
  await ensureProvenanceIndexes(db);
  await ensureReviewIndexes(db);
  const anchors = anchorsFor(config, clock, { client, dbName });
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

/** The API key store alone, for the `vex keys` CLI: the same place the server reads keys from. */
export const openApiKeyStore = async (config: Config): Promise<ApiKeyStore> => {
  if (config.store.kind === "embedded")
    return createApiKeyFileStore(join(config.store.dataDir, API_KEY_FILE));
  const client = await connectMongo(config.store.uri, config.store.timeoutMs);
  const dbName = mongoDbName(config.store.uri);
  await ensureApiKeyIndexes(client.db(dbName));
  return createMongoApiKeyStore({ client, dbName, ownsClient: true });
};
