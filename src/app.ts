import { randomInt, randomUUID } from "node:crypto";
import { join } from "node:path";
import OpenAI from "openai";
import { type Logger, pino } from "pino";
import { createMemoryEventBus } from "./adapters/bus/memory-bus.js";
import { createApiKeyFileStore } from "./adapters/embedded/api-key-file-store.js";
import { createEmbeddedStore } from "./adapters/embedded/embedded-store.js";
import { createOfflineLlm } from "./adapters/offline-llm/offline-llm.js";
import { createOpenAiLlmClient } from "./adapters/openai/openai-llm-client.js";
import { createFlexibleRateLimiter } from "./adapters/rate-limit/flexible-rate-limiter.js";
import type { Config } from "./config.js";
import { founderGenomes } from "./orchestrator/founder-genomes.js";
import { createOrchestrator, type Orchestrator } from "./orchestrator/orchestrator.js";
import type { ApiKeyStore } from "./ports/api-keys.js";
import { systemClock } from "./ports/clock.js";
import type { LlmClient } from "./ports/llm.js";
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

/** A startup refusal whose message says what to change. */
export class StartupError extends Error {
  override readonly name = "StartupError";
}

/** The composition root: the only place that constructs adapters and wires them together. */
export const createApp = async (config: Config, overrides: AppOverrides = {}): Promise<App> => {
  const logger = overrides.logger ?? pino({ level: config.logLevel });
  const store = await openStore(config);
  const llm = overrides.llm ?? openLlm(config);
  const bus = createMemoryEventBus();
  const baseMaxTokens = config.llm.baseMaxTokens;
  const orchestrator = createOrchestrator({
    store,
    bus,
    llm,
    clock: systemClock,
    ids: { next: randomUUID },
    genomes: founderGenomes,
    drawSeed: () => randomInt(MAX_DRAWN_SEED),
    baseMaxTokens,
    rateLimiter: createFlexibleRateLimiter({
      perMinute: config.limits.rateLimitPerMinute,
      burst: config.limits.rateLimitBurst,
    }),
    maxConcurrentRunsPerTenant: config.limits.maxConcurrentRunsPerTenant,
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
    context: (principal) => ({ tenantId: principal.tenantId, orchestrator, store, baseMaxTokens }),
    formatError: createErrorFormatter((err) =>
      logger.error({ err }, "unexpected error in a GraphQL operation"),
    ),
    ready: () => store.ping(),
    introspection: config.introspection,
    production: config.production,
    limits: config.limits,
    drainTimeoutMs: config.shutdownTimeoutMs,
  });

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
        await keys.close();
        await store.close();
        logger.info("stopped");
      })();
      return stopping;
    },
  };
};
