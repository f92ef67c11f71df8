import { randomInt, randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { type Logger, pino } from "pino";
import { instrumentBus, instrumentLlm, instrumentStore } from "./adapters/metrics/instrument.js";
import { createMetrics } from "./adapters/metrics/metrics.js";
import { createFlexibleRateLimiter } from "./adapters/rate-limit/flexible-rate-limiter.js";
import { anonymousPolicy } from "./app/auth-policy.js";
import { openBackends } from "./app/backends.js";
import { openBus } from "./app/bus.js";
import { openLlm } from "./app/llm.js";
import { openProvenance } from "./app/provenance.js";
import type { Config } from "./config.js";
import { createEvolution } from "./orchestrator/evolution/create-evolution.js";
import { createOrchestrator, type Orchestrator } from "./orchestrator/orchestrator.js";
import { systemClock } from "./ports/clock.js";
import type { LlmClient } from "./ports/llm.js";
import type { Store } from "./ports/stores.js";
import { createLoaders } from "./resolvers/loaders.js";
import { createAuthenticator } from "./server/auth.js";
import { createErrorFormatter } from "./server/errors.js";
import { createHttpServer } from "./server/http-server.js";
import { buildVexSchema } from "./server/schema.js";

export { API_KEY_FILE, openApiKeyStore } from "./app/backends.js";
export { StartupError } from "./app/startup-error.js";

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
  /** Graceful stop: HTTP and sockets drain, runs finish or are INTERRUPTED, the stores close. */
  stop(): Promise<void>;
}

/**
 * The composition root: the only place (with its helpers in src/app/) that constructs adapters and
 * wires them together.
 */
export const createApp = async (config: Config, overrides: AppOverrides = {}): Promise<App> => {
  const logger = overrides.logger ?? pino({ level: config.logLevel });
  const clock = systemClock;
  // Gauges read the HTTP server's sockets, which exist only once it is created below.
  const sockets = { connections: () => 0, subscriptions: () => 0 };
  const metrics = createMetrics({
    connections: () => sockets.connections(),
    subscriptions: () => sockets.subscriptions(),
  });
  const backends = await openBackends(config, clock, logger);
  const store = instrumentStore(backends.store, metrics);
  const llm = instrumentLlm(overrides.llm ?? openLlm(config), metrics);
  const busHandle = await openBus(config);
  const bus = instrumentBus(busHandle.bus, metrics);
  const baseMaxTokens = config.llm.baseMaxTokens;
  const provenance = await openProvenance({
    config,
    store,
    provenance: backends.provenance,
    anchors: backends.anchors,
    clock,
    logger,
  });
  const evolution = createEvolution({
    store: backends.evolution,
    llm,
    bus,
    clock,
    ids: { next: randomUUID },
    onWarning: (message, details) => logger.warn(details, message),
  });
  const orchestrator = createOrchestrator({
    store,
    bus,
    llm,
    clock,
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
    onBackgroundError: (err, { runId, hook }) =>
      logger.error({ err, runId, hook }, "run step failed outside its own error handling"),
  });
  if (config.llm.kind === "offline") {
    logger.warn(
      { model: llm.model },
      "No LLM configured: using the offline provider. Set OPENAI_API_KEY or OPENAI_BASE_URL.",
    );
  }

  const anonymousAllowed = await anonymousPolicy(config, backends.keys, logger);
  const http = await createHttpServer({
    schema: await buildVexSchema(),
    auth: createAuthenticator({ keys: backends.keys, anonymousAllowed }),
    context: (principal) => ({
      tenantId: principal.tenantId,
      orchestrator,
      store,
      baseMaxTokens,
      evolution: evolution.service,
      provenance: provenance.service,
      loaders: createLoaders({
        tenantId: principal.tenantId,
        agents: store.agents,
        provenance: provenance.service,
      }),
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
  if (recovered > 0) {
    logger.warn(
      { recovered },
      "interrupted runs whose server stopped mid-run; resumeOrchestration continues them",
    );
  }
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
        evolution.stop();
        await backends.close();
        logger.info("stopped");
      })();
      return stopping;
    },
  };
};
