import { randomBytes, randomInt, randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import OpenAI from "openai";
import { type Logger, pino } from "pino";
import { createFileAnchor } from "./adapters/anchor/file-anchor.js";
import { createMemoryEventBus } from "./adapters/bus/memory-bus.js";
import { createRedisEventBus } from "./adapters/bus/redis-bus.js";
import { createApiKeyFileStore } from "./adapters/embedded/api-key-file-store.js";
import { createEmbeddedStore } from "./adapters/embedded/embedded-store.js";
import { createEmbeddedEvolutionStore } from "./adapters/embedded/evolution-store.js";
import { createEmbeddedProvenanceStore } from "./adapters/embedded/provenance-store.js";
import { instrumentBus, instrumentLlm, instrumentStore } from "./adapters/metrics/instrument.js";
import { createMetrics } from "./adapters/metrics/metrics.js";
import { createOfflineLlm } from "./adapters/offline-llm/offline-llm.js";
import { createOpenAiLlmClient } from "./adapters/openai/openai-llm-client.js";
import { createFlexibleRateLimiter } from "./adapters/rate-limit/flexible-rate-limiter.js";
import type { Config } from "./config.js";
import { ED25519_KEY_BYTES } from "./domain/ed25519.js";
import { createEvolution } from "./orchestrator/evolution/create-evolution.js";
import { createOrchestrator, type Orchestrator } from "./orchestrator/orchestrator.js";
import { createProvenanceHook } from "./orchestrator/provenance-hook.js";
import { createProvenanceService } from "./orchestrator/provenance-service.js";
import { loadSigningKey } from "./orchestrator/signing-key.js";
import type { AnchorBackend } from "./ports/anchor.js";
import type { ApiKeyStore } from "./ports/api-keys.js";
import { systemClock } from "./ports/clock.js";
import type { EventBus } from "./ports/event-bus.js";
import type { EvolutionStore } from "./ports/evolution-store.js";
import type { LlmClient } from "./ports/llm.js";
import type { ProvenanceStore } from "./ports/provenance-store.js";
import type { Store } from "./ports/stores.js";
import { createAuthenticator } from "./server/auth.js";
import { createErrorFormatter } from "./server/errors.js";
import { createHttpServer } from "./server/http-server.js";
import { buildVexSchema } from "./server/schema.js";

/** File of the embedded deployment's API keys, inside VEX_DATA_DIR. */
export const API_KEY_FILE = "api-keys.json";

/** Largest seed drawn for runs started without one (GraphQL Int is 32-bit signed). */
const MAX_DRAWN_SEED = 2 ** 31 - 1;

/** Test seams: parts a test may supply instead of the ones the config selects. */
export interface AppOverrides {
  readonly llm?: LlmClient;
  readonly logger?: Logger;
}

export interface App {
  readonly orchestrator: Orchestrator;
  readonly store: Store;
  /** Listens on the configured host and port (0 picks a free port). */
  start(): Promise<{ url: string; port: number }>;
  /** Graceful stop: HTTP and sockets drain, runs finish or are INTERRUPTED, the store closes. */
  stop(): Promise<void>;
}

const openStore = async (config: Config): Promise<Store> => {
  switch (config.store.kind) {
    case "embedded":
      return createEmbeddedStore({ dataDir: config.store.dataDir });
    case "mongo":
      throw new Error("MONGODB_URI is not supported yet");
  }
};

const openLlm = (config: Config): LlmClient => {
  switch (config.llm.kind) {
    case "offline":
      return createOfflineLlm();
    case "openai":
      return createOpenAiLlmClient({
        // The adapter retries itself (honouring its own deadline and the run's abort signal), so the
        // SDK must not; its console logger would bypass ours.
        client: new OpenAI({
          apiKey: config.llm.apiKey,
          baseURL: config.llm.baseUrl,
          maxRetries: 0,
          timeout: config.llm.timeoutMs,
          logLevel: "off",
        }),
        model: config.llm.model,
        timeoutMs: config.llm.timeoutMs,
        retry: { maxRetries: config.llm.maxRetries },
        maxConcurrency: config.llm.maxConcurrency,
        maxConcurrencyPerTenant: config.llm.maxConcurrencyPerTenant,
        stream: config.llm.stream,
      });
  }
};

/** Where API keys live: beside the embedded store's data, or in MongoDB. */
export const openApiKeyStore = async (config: Config): Promise<ApiKeyStore> => {
  switch (config.store.kind) {
    case "embedded":
      return createApiKeyFileStore(join(config.store.dataDir, API_KEY_FILE));
    case "mongo":
      throw new Error("MONGODB_URI is not supported yet");
  }
};

const LOOPBACK_HOSTS = new Set(["localhost", "::1", "[::1]"]);
const isLoopback = (host: string) => LOOPBACK_HOSTS.has(host) || /^127(\.\d{1,3}){3}$/.test(host);

/**
 * Whether requests without a key act as the default tenant. With auth disabled: always. Otherwise
 * only while no key exists and the server listens on loopback — loudly logged. A non-loopback
 * server without keys refuses to start.
 */
const anonymousPolicy = async (config: Config, keys: ApiKeyStore, logger: Logger) => {
  if (!config.authEnabled) {
    logger.warn('VEX_AUTH=disabled: every request acts as tenant "default" unless it presents a key.');
    return async () => true;
  }
  const loopback = isLoopback(config.host);
  if (!loopback && !(await keys.hasActiveKeys())) {
    throw new StartupError(
      `HOST=${config.host} is not a loopback address and no API key exists. Create one with \`vex keys create --tenant <id>\`, or set VEX_AUTH=disabled to serve without authentication.`,
    );
  }
  if (loopback && !(await keys.hasActiveKeys())) {
    logger.warn(
      'NO API KEYS EXIST: requests without a key act as tenant "default" (development default, loopback only). Create a key with `vex keys create --tenant <id>` to require authentication.',
    );
  }
  return async () => loopback && !(await keys.hasActiveKeys());
};

/**
 * Provenance: the ledger store, the signing key (configured, stored, or generated and stored), the
 * anchor backends, and the after-run hook and read service over them.
 */
const openProvenance = async (config: Config, store: Store, logger: Logger) => {
  let provenance: ProvenanceStore;
  switch (config.store.kind) {
    case "embedded":
      provenance = await createEmbeddedProvenanceStore({ dataDir: config.store.dataDir });
      break;
    case "mongo":
      // Wire createMongoProvenanceStore({ client, dbName }) after ensureProvenanceIndexes(db) here.
      throw new Error("MONGODB_URI is not supported yet (provenance store)");
  }
  const openAnchor = (name: Config["provenance"]["anchors"][number]): AnchorBackend => {
    switch (name) {
      case "file":
        return createFileAnchor({ path: config.provenance.anchorFile, clock: systemClock });
      case "mongo":
        // Wire createMongoAnchor({ client, dbName, clock: systemClock }) here, on the same client.
        throw new Error("MONGODB_URI is not supported yet (mongo anchor)");
    }
  };
  const anchors = config.provenance.anchors.map(openAnchor);
  const { signer, source } = await loadSigningKey({
    store: provenance.signingKey,
    configuredSeed:
      config.provenance.signingKey === undefined
        ? undefined
        : new Uint8Array(Buffer.from(config.provenance.signingKey, "base64")),
    generateSeed: () => new Uint8Array(randomBytes(ED25519_KEY_BYTES)),
    clock: systemClock,
  });
  const deps = { provenance, anchors, signer, originPrefix: config.provenance.origin, clock: systemClock };
  const service = createProvenanceService({ ...deps, store });
  logger.info(
    {
      source,
      anchors: config.provenance.anchors,
      defaultTenantKey: service.publicKey("default").verifierKey,
    },
    "ledger signing key loaded",
  );
  return {
    hook: createProvenanceHook(deps),
    service,
    close: async () => {
      for (const anchor of anchors) await anchor.close();
      await provenance.close();
    },
  };
};

/** How long startup waits for Redis before giving up. @default 5 s */
const REDIS_CONNECT_TIMEOUT_MS = 5_000;

/** The event bus: Redis across instances when REDIS_URL is set, else in-process. */
const openBus = async (config: Config): Promise<{ bus: EventBus; close(): Promise<void> }> => {
  if (config.redisUrl === undefined) return { bus: createMemoryEventBus(), close: async () => {} };
  const connect = async () => {
    const client = new Redis(config.redisUrl as string, {
      lazyConnect: true,
      connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
    });
    try {
      await client.connect();
      return client;
    } catch (e) {
      client.disconnect();
      throw new StartupError(
        `Cannot connect to Redis at REDIS_URL (${redactUrl(config.redisUrl as string)}): ${String(e)}`,
      );
    }
  };
  const publisher = await connect();
  const subscriber = await connect();
  return {
    bus: createRedisEventBus({ publisher, subscriber }),
    close: async () => {
      await Promise.all([publisher.quit(), subscriber.quit()]);
    },
  };
};

/** A connection URL without its password, for messages. */
const redactUrl = (url: string) => url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");

/** Gene pools, experiments, rules and evolution records: beside the embedded store's files, or in MongoDB. */
const openEvolutionStore = async (config: Config): Promise<EvolutionStore> => {
  switch (config.store.kind) {
    case "embedded":
      return createEmbeddedEvolutionStore({ dataDir: config.store.dataDir });
    case "mongo":
      // Wire createMongoEvolutionStore({ client, dbName }) after ensureEvolutionIndexes(db) here.
      throw new Error("MONGODB_URI is not supported yet (evolution store)");
  }
};

/** A startup refusal whose message says what to change. */
export class StartupError extends Error {
  override readonly name = "StartupError";
}

/** The composition root: the only place that constructs adapters and wires them together. */
export const createApp = async (config: Config, overrides: AppOverrides = {}): Promise<App> => {
  const logger = overrides.logger ?? pino({ level: config.logLevel });
  // Gauges read the HTTP server's sockets, which exist only once it is created below.
  const sockets = { connections: () => 0, subscriptions: () => 0 };
  const metrics = createMetrics({
    connections: () => sockets.connections(),
    subscriptions: () => sockets.subscriptions(),
  });
  const store = instrumentStore(await openStore(config), metrics);
  const llm = instrumentLlm(overrides.llm ?? openLlm(config), metrics);
  const busHandle = await openBus(config);
  const bus = instrumentBus(busHandle.bus, metrics);
  const baseMaxTokens = config.llm.baseMaxTokens;
  const provenance = await openProvenance(config, store, logger);
  const evolutionStore = await openEvolutionStore(config);
  const evolution = createEvolution({
    store: evolutionStore,
    llm,
    bus,
    clock: systemClock,
    ids: { next: randomUUID },
    onWarning: (message, details) => logger.warn(details, message),
  });
  const orchestrator = createOrchestrator({
    store,
    bus,
    llm,
    clock: systemClock,
    ids: { next: randomUUID },
    instanceId: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    leaseMs: config.runLeaseMs,
    genomes: evolution.genomes,
    drawSeed: () => randomInt(MAX_DRAWN_SEED),
    baseMaxTokens,
    rateLimiter: createFlexibleRateLimiter({
      perMinute: config.limits.rateLimitPerMinute,
      burst: config.limits.rateLimitBurst,
    }),
    maxConcurrentRunsPerTenant: config.limits.maxConcurrentRunsPerTenant,
    hooks: [evolution.hook, provenance.hook],
    onBackgroundError: (err, { runId }) =>
      logger.error({ err, runId }, "run failed outside its own error handling"),
  });
  if (config.llm.kind === "offline") {
    logger.warn(
      { model: llm.model },
      "No LLM configured: using the offline provider. Set OPENAI_API_KEY or OPENAI_BASE_URL.",
    );
  }

  const keys = await openApiKeyStore(config);
  const anonymousAllowed = await anonymousPolicy(config, keys, logger);
  const http = await createHttpServer({
    schema: await buildVexSchema(),
    auth: createAuthenticator({ keys, anonymousAllowed }),
    context: (principal) => ({
      tenantId: principal.tenantId,
      orchestrator,
      store,
      baseMaxTokens,
      evolution: evolution.service,
      provenance: provenance.service,
    }),
    formatError: createErrorFormatter((err) =>
      logger.error({ err }, "unexpected error in a GraphQL operation"),
    ),
    ready: () => store.ping(),
    metrics: async () => ({
      contentType: metrics.registry.contentType,
      body: await metrics.registry.metrics(),
    }),
    introspection: config.introspection,
    production: config.production,
    limits: config.limits,
    drainTimeoutMs: config.shutdownTimeoutMs,
  });

  const recovered = await orchestrator.recover();
  if (recovered > 0)
    logger.warn(
      { recovered },
      "interrupted runs whose server stopped mid-run; resumeOrchestration continues them",
    );
  orchestrator.startMaintenance();
  sockets.connections = http.connections;
  sockets.subscriptions = http.subscriptions;

  let stopping: Promise<void> | undefined;
  return {
    orchestrator,
    store,
    async start() {
      const address = await http.listen(config.port, config.host);
      logger.info({ url: address.url, store: config.store.kind, model: llm.model }, "VEX GraphQL listening");
      return address;
    },
    stop() {
      stopping ??= (async () => {
        await http.stop();
        await orchestrator.shutdown(config.shutdownTimeoutMs);
        await bus.close();
        await busHandle.close();
        await keys.close();
        await provenance.close();
        evolution.stop();
        await evolutionStore.close();
        await store.close();
        logger.info("stopped");
      })();
      return stopping;
    },
  };
};
