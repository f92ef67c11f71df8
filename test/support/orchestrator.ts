import { createMemoryEventBus } from "../../src/adapters/bus/memory-bus.js";
import { createEmbeddedStore } from "../../src/adapters/embedded/embedded-store.js";
import { createInProcessRunQueue } from "../../src/adapters/queue/in-process-queue.js";
import { createMemoryRunSlots } from "../../src/adapters/rate-limit/memory-run-slots.js";
import type { RunEvent } from "../../src/domain/events.js";
import { founderGenomes } from "../../src/orchestrator/founder-genomes.js";
import { createOrchestrator, type OrchestratorDeps } from "../../src/orchestrator/orchestrator.js";
import type { LlmClient } from "../../src/ports/llm.js";
import type { Store } from "../../src/ports/stores.js";

/** Ids id-1, id-2, … so that runs with the same inputs produce the same records. */
export const sequentialIds = (prefix = "id") => {
  let n = 0;
  return { next: () => `${prefix}-${++n}` };
};

/** A fixed clock that advances one millisecond per reading. */
export const steppingClock = (start = Date.UTC(2026, 0, 1)) => {
  let t = start;
  return { now: () => new Date(t++) };
};

/** Runs in this process, at most this many at once (the production default). */
export const TEST_WORKER_CONCURRENCY = 10;

/** The in-process queue and run slots, as a server without Redis has them. */
export const inProcessExecution = () => ({
  queue: createInProcessRunQueue({ concurrency: TEST_WORKER_CONCURRENCY }),
  slots: createMemoryRunSlots(),
});

/** An orchestrator on an in-memory embedded store and the in-process bus, its worker started. */
export const createTestOrchestrator = async (llm: LlmClient, overrides: Partial<OrchestratorDeps> = {}) => {
  const store = await createEmbeddedStore({ dataDir: null });
  const bus = createMemoryEventBus();
  const deps: OrchestratorDeps = {
    store,
    bus,
    llm,
    clock: steppingClock(),
    ids: sequentialIds(),
    genomes: founderGenomes,
    drawSeed: () => 42,
    baseMaxTokens: 400,
    ...inProcessExecution(),
    ...overrides,
  };
  const orchestrator = createOrchestrator(deps);
  await orchestrator.work();
  return { orchestrator, store, bus };
};

/** Collects a run's events until RunFinished. */
export const drain = async <T>(iterable: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const e of iterable) out.push(e);
  return out;
};

/**
 * The store with each event write's batch shown to `record` first, with the write's number (from 1):
 * it may note it, hold it (await) or refuse it (throw) before the store writes it.
 */
export const withRecordedAppends = (
  store: Store,
  record: (batch: readonly RunEvent[], call: number) => Promise<void> | void,
): Store => {
  let calls = 0;
  return {
    ...store,
    events: {
      ...store.events,
      append: async (batch, changes) => {
        await record(batch, ++calls);
        await store.events.append(batch, changes);
      },
    },
  };
};
