import { createMemoryEventBus } from "../../src/adapters/bus/memory-bus.js";
import { createEmbeddedStore } from "../../src/adapters/embedded/embedded-store.js";
import { createEmbeddedEvolutionStore } from "../../src/adapters/embedded/evolution-store.js";
import type { RunEvent } from "../../src/domain/events.js";
import type { Run } from "../../src/domain/run.js";
import type { EvolutionOptions } from "../../src/orchestrator/evolution/context.js";
import { createEvolution } from "../../src/orchestrator/evolution/create-evolution.js";
import { createOrchestrator } from "../../src/orchestrator/orchestrator.js";
import type { StartRunInput } from "../../src/orchestrator/run-input.js";
import type { Clock } from "../../src/ports/clock.js";
import type { EvolutionStore } from "../../src/ports/evolution-store.js";
import type { LlmClient } from "../../src/ports/llm.js";
import type { Store } from "../../src/ports/stores.js";
import { drain, inProcessExecution, sequentialIds, steppingClock } from "./orchestrator.js";

export interface EvolvingOrchestratorOptions {
  /** Data folder for both stores; null (default) keeps them in memory. */
  readonly dataDir?: string | null;
  /** Stores opened (and closed) by the caller, shared like one database between processes. */
  readonly stores?: { readonly store: Store; readonly evolutionStore: EvolutionStore };
  readonly evolution?: EvolutionOptions;
  readonly clock?: Clock;
  /** Prefix of the sequential ids. @default "id" */
  readonly idPrefix?: string;
  readonly warnings?: string[];
}

/**
 * An orchestrator wired like the app: embedded stores, the in-process bus, and evolution's gene-pool
 * GenomeSource and hook. Ids and time are deterministic.
 */
export const createEvolvingOrchestrator = async (
  llm: LlmClient,
  options: EvolvingOrchestratorOptions = {},
) => {
  const dataDir = options.dataDir ?? null;
  const { store, evolutionStore } = options.stores ?? {
    store: await createEmbeddedStore({ dataDir }),
    evolutionStore: await createEmbeddedEvolutionStore({ dataDir }),
  };
  const bus = createMemoryEventBus();
  const clock = options.clock ?? steppingClock();
  const ids = sequentialIds(options.idPrefix);
  const evolution = createEvolution({
    store: evolutionStore,
    llm,
    bus,
    clock,
    ids,
    ...(options.evolution ? { options: options.evolution } : {}),
    onWarning: (message) => options.warnings?.push(message),
  });
  const errors: unknown[] = [];
  const orchestrator = createOrchestrator({
    store,
    bus,
    llm,
    clock,
    ids,
    genomes: evolution.genomes,
    hooks: [evolution.hook],
    drawSeed: () => 42,
    baseMaxTokens: 400,
    onBackgroundError: (e) => errors.push(e),
    ...inProcessExecution(),
  });
  await orchestrator.work();

  /** Starts a run and waits for RunFinished; fails on any background error. */
  const run = async (tenantId: string, input: StartRunInput): Promise<{ run: Run; events: RunEvent[] }> => {
    const started = await orchestrator.start(tenantId, input);
    const events = await drain(await orchestrator.events(tenantId, started.id, 0));
    if (errors.length > 0) throw errors[0];
    return { run: (await store.runs.get(tenantId, started.id)) as Run, events };
  };

  return {
    orchestrator,
    store,
    evolutionStore,
    evolution,
    bus,
    errors,
    run,
    close: async () => {
      await orchestrator.shutdown(0);
      evolution.stop();
      if (options.stores !== undefined) return;
      await evolutionStore.close();
      await store.close();
    },
  };
};

export type EvolvingOrchestrator = Awaited<ReturnType<typeof createEvolvingOrchestrator>>;
