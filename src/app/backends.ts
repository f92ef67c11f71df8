import { join } from "node:path";
import type { Logger } from "pino";
import { createApiKeyFileStore } from "../adapters/embedded/api-key-file-store.js";
import { createEmbeddedStore } from "../adapters/embedded/embedded-store.js";
import { createEmbeddedEvolutionStore } from "../adapters/embedded/evolution-store.js";
import { createEmbeddedProvenanceStore } from "../adapters/embedded/provenance-store.js";
import { createEmbeddedReviewStore } from "../adapters/embedded/review-store.js";
import { openEmbeddedDatabase } from "../adapters/embedded/sqlite.js";
import type { WalCheckpointObserver } from "../adapters/embedded/wal-checkpointer.js";
import type { Metrics } from "../adapters/metrics/metrics.js";
import type { Config } from "../config.js";
import type { AnchorBackend } from "../ports/anchor.js";
import type { ApiKeyStore } from "../ports/api-keys.js";
import type { Clock } from "../ports/clock.js";
import type { EvolutionStore } from "../ports/evolution-store.js";
import type { ProvenanceStore } from "../ports/provenance-store.js";
import type { ReviewStore } from "../ports/reviews.js";
import type { Store } from "../ports/stores.js";
import { openAnchors } from "./anchors.js";
import { StartupError } from "./startup-error.js";

/** File of the embedded deployment's API keys, inside VEX_DATA_DIR. */
export const API_KEY_FILE = "api-keys.json";

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

/** Times each checkpoint of the embedded database's log in /metrics; a failed one is also logged. */
export const reportWalCheckpoints = (logger: Logger, metrics: Metrics): WalCheckpointObserver => ({
  checkpointed: ({ ms }) => metrics.walCheckpoints.observe({ outcome: "ok" }, ms / 1_000),
  failed: (err) => {
    metrics.walCheckpoints.observe({ outcome: "error" }, 0);
    logger.warn({ err }, "A checkpoint of the embedded database's write-ahead log failed");
  },
});

/** Opens the embedded database of VEX_DATA_DIR or refuses to start with the reason. */
const openEmbedded = (dataDir: string, walCheckpoints?: WalCheckpointObserver) => {
  try {
    return openEmbeddedDatabase({ dataDir, ...(walCheckpoints ? { walCheckpoints } : {}) });
  } catch (e) {
    throw new StartupError(e instanceof Error ? e.message : String(e), { cause: e });
  }
};

/**
 * Opens the deployment's stores: MongoDB when MONGODB_URI is set (one client, indexes created
 * explicitly), else the embedded SQLite database in VEX_DATA_DIR (importing an old NeDB folder once),
 * whose write-ahead log's checkpoints `walCheckpoints` is told of.
 * The MongoDB driver and adapters are loaded only by servers that use them.
 */
export const openBackends = async (
  config: Config,
  clock: Clock,
  log?: StartupLog,
  walCheckpoints?: WalCheckpointObserver,
): Promise<Backends> => {
  if (config.store.kind === "embedded") {
    const { dataDir } = config.store;
    const database = openEmbedded(dataDir, walCheckpoints);
    if (database.imported !== null) {
      log?.info(database.imported, "imported the NeDB data files of VEX_DATA_DIR into the SQLite database");
    }
    const store = await createEmbeddedStore({ database });
    const keys = await createApiKeyFileStore(join(dataDir, API_KEY_FILE));
    const evolution = await createEmbeddedEvolutionStore({ database });
    const provenance = await createEmbeddedProvenanceStore({ database });
    const reviews = await createEmbeddedReviewStore({ database });
    const anchors = openAnchors(config, clock);
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
        await database.close();
      },
    };
  }
  const { openMongoBackends } = await import("./mongo-backends.js");
  return openMongoBackends(config.store, config, clock);
};

/** The API key store alone, for the `vex keys` CLI: the same place the server reads keys from. */
export const openApiKeyStore = async (config: Config): Promise<ApiKeyStore> => {
  if (config.store.kind === "embedded")
    return createApiKeyFileStore(join(config.store.dataDir, API_KEY_FILE));
  const { openMongoApiKeyStore } = await import("./mongo-backends.js");
  return openMongoApiKeyStore(config.store);
};
