import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { createEmbeddedStore } from "../../src/adapters/embedded/embedded-store.js";
import { createOfflineLlm } from "../../src/adapters/offline-llm/offline-llm.js";
import { withDataDir } from "../support/data-dirs.js";
import { createTestOrchestrator, drain } from "../support/orchestrator.js";

/** Runs before the first heap sample (caches, JIT and SQLite's page cache warm up), and in all. */
const WARM_UP_RUNS = 500;
const TOTAL_RUNS = 2_000;
/**
 * Allowed heap growth from run 500 to the last. A store that keeps its documents in memory grows by
 * the size of a run's records per run (~31 KiB on the NeDB store: ~45 MiB over these 1,500 runs).
 */
const MAX_GROWTH_BYTES = 8 * 1024 * 1024;

// Node exposes a full collection only with --expose-gc; the flag can be set at run time and the
// function read from a fresh context.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** Heap in use after full collections: the smallest of a few samples, so that no stray garbage counts. */
const heapUsed = (): number => {
  const samples: number[] = [];
  for (let i = 0; i < 3; i++) {
    gc();
    samples.push(process.memoryUsage().heapUsed);
  }
  return Math.min(...samples);
};

describe("the embedded store's memory as history grows", () => {
  it(`stays flat from run ${WARM_UP_RUNS} to run ${TOTAL_RUNS}`, { timeout: 300_000 }, async () => {
    await withDataDir(async (dataDir) => {
      const store = await createEmbeddedStore({ dataDir });
      const t = await createTestOrchestrator(createOfflineLlm(), { store });
      let atWarmUp = 0;
      for (let n = 1; n <= TOTAL_RUNS; n++) {
        const run = await t.orchestrator.start("tenant-a", { query: `question ${n}` });
        const events = await drain(await t.orchestrator.events("tenant-a", run.id, 0));
        expect(events.at(-1)?.type).toBe("RunFinished");
        if (n === WARM_UP_RUNS) atWarmUp = heapUsed();
      }
      const growth = heapUsed() - atWarmUp;
      expect((await store.runs.list("tenant-a", { first: 1 })).hasNextPage).toBe(true);
      console.info(
        `heap growth from run ${WARM_UP_RUNS} to ${TOTAL_RUNS}: ${(growth / 1024).toFixed(0)} KiB`,
      );
      expect(growth).toBeLessThan(MAX_GROWTH_BYTES);
      await store.close();
    });
  });
});
