import { randomInt, randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { type Logger, pino } from "pino";
import {
  instrumentBus,
  instrumentEvolutionStore,
  instrumentLlm,
  instrumentProvenanceStore,
  instrumentReviewStore,
  instrumentStore,
} from "./adapters/metrics/instrument.js";
import { createMetrics } from "./adapters/metrics/metrics.js";
import { openTracing } from "./adapters/telemetry/tracing.js";
import { anonymousPolicy } from "./app/auth-policy.js";
import { openBackends, reportWalCheckpoints } from "./app/backends.js";
import { openBus } from "./app/bus.js";
import { openExecution } from "./app/execution.js";
import { checkLlm, openLlm, reportParamChanges, routedTargets } from "./app/llm.js";
import { openProvenance } from "./app/provenance.js";
import { traced } from "./app/tracing.js";
import { createWorkerHttpServer } from "./app/worker-http.js";
import type { Config } from "./config.js";
import { debateChangedAnswers } from "./domain/answer-change.js";
import { ErrorCode } from "./domain/errors.js";
import { countedInTenantQuota } from "./orchestrator/budget.js";
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
 * wires them together. The role decides what the process does: `api` serves GraphQL and queues runs,
 * `worker` executes queued runs (serving only health and metrics), `all` does both.
 */
export const createApp = async (config: Config, overrides: AppOverrides = {}): Promise<App> => {
  const logger = overrides.logger ?? pino({ level: config.logLevel });
  const clock = systemClock;
  const serves = config.role !== "worker";
  const executes = config.role !== "api";
  // Gauges read parts that exist only once they are created below.
  const sources = {
    connections: () => 0,
    subscriptions: () => 0,
    activeRuns: () => 0,
    queueDepth: async () => ({ waiting: 0, active: 0 }),
  };
  const metrics = createMetrics({
    connections: () => sources.connections(),
    subscriptions: () => sources.subscriptions(),
    activeRuns: () => sources.activeRuns(),
    queueDepth: () => sources.queueDepth(),
  });
  const tracing = await openTracing(config.tracing);
  const opened =
    overrides.llm ?? (await openLlm(config, { onParamChange: reportParamChanges(logger, metrics) }));
  const llm = traced(instrumentLlm(opened, metrics), tracing, config);
  // Before anything is opened, so a refused start leaves nothing to close.
  await checkLlm(llm, config, routedTargets(opened));
  const backends = await openBackends(config, clock, logger, reportWalCheckpoints(logger, metrics));
  const store = instrumentStore(backends.store, metrics);
  const busHandle = await openBus(config);
  const bus = instrumentBus(busHandle.bus, metrics);
  const execution = await openExecution(config, (err) => logger.error({ err }, "run queue error"));
  const provenance = await openProvenance({
    config,
    store,
    provenance: instrumentProvenanceStore(backends.provenance, metrics),
    anchors: backends.anchors,
    clock,
    logger,
  });
  const tenantQuota =
    config.tenantTokensPerDay === undefined
      ? undefined
      : { quota: execution.tokenQuota, tokensPerDay: config.tenantTokensPerDay };
  const evolution = createEvolution({
    store: instrumentEvolutionStore(backends.evolution, metrics),
    llm: countedInTenantQuota(llm, tenantQuota, clock),
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
    queue: execution.queue,
    slots: execution.slots,
    instanceId: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    maxWorkersLost: config.worker.maxWorkersLost,
    genomes: evolution.genomes,
    reviews: instrumentReviewStore(backends.reviews, metrics),
    drawSeed: () => randomInt(MAX_DRAWN_SEED),
    baseMaxTokens: config.llm.baseMaxTokens,
    reasoningBaseMaxTokens: config.llm.reasoningBaseMaxTokens,
    tracer: tracing.tracer,
    rateLimiter: execution.rateLimiter,
    maxConcurrentRunsPerTenant: config.limits.maxConcurrentRunsPerTenant,
    ...(tenantQuota === undefined ? {} : { tenantQuota }),
    // Both are part of a run's success; the ledger and anchors are retried while their store is down.
    hooks: [
      {
        name: "debate-metrics",
        afterRun: async ({ agents }) => metrics.debateChangedAnswers.inc(debateChangedAnswers(agents)),
      },
      { ...evolution.hook, failureCode: ErrorCode.EvolutionFailed },
      { ...provenance.hook, failureCode: ErrorCode.ProvenanceFailed, retryable: true },
    ],
    onBackgroundError: (err, { runId, hook }) =>
      logger.error({ err, runId, hook }, "run step failed outside its own error handling"),
    onDispatch: ({ waitedMs, resumed }) => {
      metrics.dispatchLatency.observe(waitedMs / 1_000);
      if (resumed !== null) metrics.runsResumed.inc({ reason: resumed });
    },
  });
  sources.activeRuns = orchestrator.activeRuns;
  sources.queueDepth = () => execution.queue.depth();
  if (config.llm.kind === "offline") {
    logger.warn(
      { model: llm.model },
      "No LLM configured: using the offline provider. Set OPENAI_API_KEY or OPENAI_BASE_URL.",
    );
  }
  const ready = () => store.ping();
  const exposition = async () => ({
    contentType: metrics.registry.contentType,
    body: await metrics.registry.metrics(),
  });

  const http = serves
    ? await createHttpServer({
        schema: await buildVexSchema(),
        auth: createAuthenticator({
          keys: backends.keys,
          anonymousAllowed: await anonymousPolicy(config, backends.keys, logger),
        }),
        context: (principal) => ({
          tenantId: principal.tenantId,
          keyId: principal.keyId,
          orchestrator,
          store,
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
        ready,
        metrics: exposition,
        introspection: config.introspection,
        production: config.production,
        limits: config.limits,
        drainTimeoutMs: config.shutdownTimeoutMs,
        tracer: tracing.tracer,
      })
    : undefined;
  const workerHttp = serves ? undefined : createWorkerHttpServer({ ready, metrics: exposition });
  if (http !== undefined) {
    sources.connections = http.connections;
    sources.subscriptions = http.subscriptions;
  }

  if (executes) {
    // Runs that were unfinished when the last process stopped resume by themselves.
    const requeued = await orchestrator.requeueUnfinished();
    if (requeued > 0) logger.info({ requeued }, "queued the unfinished runs found in the store");
    await orchestrator.work();
  }

  let stopping: Promise<void> | undefined;
  return {
    orchestrator,
    store,
    async start() {
      const address = await (http ?? (workerHttp as NonNullable<typeof workerHttp>)).listen(
        config.port,
        config.host,
      );
      logger.info(
        {
          url: address.url,
          role: config.role,
          store: config.store.kind,
          model: llm.model,
          // Where calls go besides the model (no keys: only names and models).
          ...(config.llm.kind === "openai" && Object.keys(config.llm.routes).length > 0
            ? { routes: config.llm.routes }
            : {}),
        },
        serves ? "VEX GraphQL listening" : "VEX worker listening",
      );
      return address;
    },
    stop() {
      stopping ??= (async () => {
        await http?.stop();
        await workerHttp?.stop();
        await orchestrator.shutdown(config.shutdownTimeoutMs);
        await execution.close();
        await bus.close();
        await busHandle.close();
        evolution.stop();
        await backends.close();
        await tracing.shutdown();
        logger.info("stopped");
      })();
      return stopping;
    },
  };
};
