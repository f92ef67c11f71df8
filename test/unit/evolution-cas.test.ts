import { describe, expect, it } from "vitest";
import { createMemoryEventBus } from "../../src/adapters/bus/memory-bus.js";
import { createEmbeddedStore } from "../../src/adapters/embedded/embedded-store.js";
import { createEmbeddedEvolutionStore } from "../../src/adapters/embedded/evolution-store.js";
import { createEvolution } from "../../src/orchestrator/evolution/create-evolution.js";
import { createOrchestrator } from "../../src/orchestrator/orchestrator.js";
import { ScriptedLlm } from "../fakes/scripted-llm.js";
import { drain, inProcessExecution, sequentialIds, steppingClock } from "../support/orchestrator.js";

const TENANT = "tenant-a";

describe("evolution of one tenant by two workers at once", () => {
  it("loses no update: the later change is rebased onto the earlier one", async () => {
    const store = await createEmbeddedStore({ dataDir: null });
    const evolutionStore = await createEmbeddedEvolutionStore({ dataDir: null });
    // Two workers: each its own evolution state (cache) and engine, one store between them.
    const worker = async (name: string) => {
      const llm = new ScriptedLlm();
      const bus = createMemoryEventBus();
      const clock = steppingClock();
      const ids = sequentialIds(name);
      const evolution = createEvolution({ store: evolutionStore, llm, bus, clock, ids, onWarning: () => {} });
      const errors: unknown[] = [];
      const orchestrator = createOrchestrator({
        store,
        bus,
        llm,
        clock,
        ids,
        genomes: evolution.genomes,
        hooks: [evolution.hook],
        drawSeed: () => 7,
        baseMaxTokens: 100,
        onBackgroundError: (e) => errors.push(e),
        ...inProcessExecution(),
      });
      await orchestrator.work();
      return { orchestrator, evolution, errors };
    };
    const [a, b] = [await worker("a"), await worker("b")];
    // Both read the tenant's pools (founders) before either evolves them.
    const runs = await Promise.all(
      [a, b].map(async (w) => {
        const run = await w.orchestrator.start(TENANT, { query: "q", evolution: "GENETIC" });
        return drain(await w.orchestrator.events(TENANT, run.id, 0));
      }),
    );
    for (const events of runs)
      expect(events.at(-1)).toMatchObject({ type: "RunFinished", status: "SUCCEEDED" });
    expect([...a.errors, ...b.errors]).toEqual([]);

    const records = (await evolutionStore.records.list(TENANT, { first: 10 })).items;
    expect(records).toHaveLength(2);
    const [first, second] = [...records].reverse();
    const { pools } = await evolutionStore.pools.load(TENANT);
    const moved = pools.filter((p) => p.role === first?.role);
    if (first?.role === second?.role) {
      // Same role: two steps in sequence, the second starting from the first's offspring.
      expect(moved.map((p) => p.evolutions)).toEqual([2]);
      expect(second?.before).toEqual(first?.after);
      expect(moved[0]?.currentGenomeId).toBe(second?.offspringGenomeId);
    } else {
      expect(pools.map((p) => p.evolutions)).toEqual([1, 1]);
    }
  });
});
