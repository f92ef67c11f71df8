import { randomInt, randomUUID } from "node:crypto";
import { type Logger, pino } from "pino";
import { createMemoryEventBus } from "./adapters/bus/memory-bus.js";
import { createEmbeddedStore } from "./adapters/embedded/embedded-store.js";
import { createOfflineLlm } from "./adapters/offline-llm/offline-llm.js";
import type { Config } from "./config.js";
import { founderGenomes } from "./orchestrator/founder-genomes.js";
import { createOrchestrator, type Orchestrator } from "./orchestrator/orchestrator.js";
import { systemClock } from "./ports/clock.js";
import type { LlmClient } from "./ports/llm.js";
import type { Store } from "./ports/stores.js";
import { createErrorFormatter } from "./server/errors.js";
import { createHttpServer } from "./server/http-server.js";
import { buildVexSchema } from "./server/schema.js";

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
      throw new Error("OPENAI_API_KEY / OPENAI_BASE_URL are not supported yet");
  }
};

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
    onBackgroundError: (err, { runId }) =>
      logger.error({ err, runId }, "run failed outside its own error handling"),
  });
  if (config.llm.kind === "offline") {
    logger.warn(
      { model: llm.model },
      "No LLM configured: using the offline provider. Set OPENAI_API_KEY or OPENAI_BASE_URL.",
    );
  }

  const http = await createHttpServer({
    schema: await buildVexSchema(),
    context: () => ({ tenantId: "default", orchestrator, store, baseMaxTokens }),
    formatError: createErrorFormatter((err) =>
      logger.error({ err }, "unexpected error in a GraphQL operation"),
    ),
    ready: () => store.ping(),
    introspection: !config.production,
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
        await store.close();
        logger.info("stopped");
      })();
      return stopping;
    },
  };
};
