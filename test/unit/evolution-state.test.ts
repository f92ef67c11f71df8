import { afterEach, describe, expect, it, vi } from "vitest";
import { createMemoryEventBus } from "../../src/adapters/bus/memory-bus.js";
import { createEmbeddedEvolutionStore } from "../../src/adapters/embedded/evolution-store.js";
import { toLlmParams } from "../../src/domain/genome.js";
import { createEvolution } from "../../src/orchestrator/evolution/create-evolution.js";
import { gradedScript } from "../fakes/graded-llm.js";
import { ScriptedLlm } from "../fakes/scripted-llm.js";
import { createEvolvingOrchestrator } from "../support/evolution.js";
import { sequentialIds } from "../support/orchestrator.js";
import { makeDataDir, removeDir } from "../support/server.js";

const A = "tenant-a";

/** A clock the test moves by hand. */
const manualClock = (start = Date.UTC(2026, 0, 1)) => {
  let t = start;
  return {
    now: () => new Date(t),
    advance: (ms: number) => {
      t += ms;
    },
  };
};

describe("restart (issue 3 item 5): state is rebuilt from the store", () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await removeDir(dir);
  });

  it("after N runs and a restart, the next run uses the evolved genomes and memory has the same experiments", async () => {
    const dataDir = await makeDataDir();
    dirs.push(dataDir);
    const clock = manualClock();
    const first = await createEvolvingOrchestrator(new ScriptedLlm(gradedScript()), { dataDir, clock });
    for (let i = 0; i < 8; i++) {
      clock.advance(1000);
      await first.run(A, { query: `q${i}`, evolution: i % 2 ? "GENETIC" : "SELF_CORRECTING", seed: i });
    }
    const pool = await first.evolution.service.genePool(A);
    const memory = await first.evolution.service.memorySnapshot(A);
    const correlations = await first.evolution.service.traitCorrelations(A);
    expect(memory).toHaveLength(12);
    expect(pool.some((p) => p.historySize > 0)).toBe(true);
    await first.close();

    const llm = new ScriptedLlm(gradedScript());
    const second = await createEvolvingOrchestrator(llm, { dataDir, clock, idPrefix: "after" });
    expect(second.evolution.cachedTenants()).toBe(0);
    expect(await second.evolution.service.genePool(A)).toStrictEqual(pool);
    // Importance is time-dependent (it decays to "now" on rebuild); everything else is identical.
    const rebuilt = await second.evolution.service.memorySnapshot(A);
    const withoutImportance = (list: typeof memory) => list.map(({ importance, ...e }) => e);
    expect(withoutImportance(rebuilt)).toStrictEqual(withoutImportance(memory));
    for (const [i, e] of rebuilt.entries())
      expect(e.importance).toBeLessThanOrEqual(memory[i]?.importance ?? 0);
    expect(await second.evolution.service.traitCorrelations(A)).toStrictEqual(correlations);
    const next = await second.run(A, { query: "after restart", evolution: "OFF" });
    const calls = llm.requests.filter((r) => r.tag.runId === next.run.id);
    for (const entry of pool) {
      const own = calls.filter((r) => r.tag.role === entry.role);
      expect(own.length).toBeGreaterThan(0);
      for (const r of own) expect(r.params).toEqual(toLlmParams(entry.genome.traits, 400));
    }
    await second.close();
  });
});

describe("in-memory state is bounded and cleaned on a schedule", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const setup = async (options: { maxCachedTenants?: number } = {}) => {
    const clock = manualClock();
    const store = await createEmbeddedEvolutionStore({ dataDir: null });
    const evolution = createEvolution({
      store,
      llm: new ScriptedLlm(),
      bus: createMemoryEventBus(),
      clock,
      ids: sequentialIds(),
      options: { cleanupIntervalMs: 1_000, tenantIdleMs: 60_000, ...options },
    });
    return { clock, store, evolution };
  };

  it("drops idle tenants on the timer and rebuilds them from the store on next use", async () => {
    vi.useFakeTimers();
    const { clock, evolution, store } = await setup();
    await evolution.genomes.current("t1", "ROOT");
    await evolution.genomes.current("t2", "ROOT");
    expect(evolution.cachedTenants()).toBe(2);
    clock.advance(30_000);
    await evolution.genomes.current("t2", "CRITIC");
    clock.advance(30_000);
    vi.advanceTimersByTime(1_000);
    expect(evolution.cachedTenants()).toBe(1);
    clock.advance(60_000);
    expect(evolution.sweep()).toBe(1);
    expect((await evolution.genomes.current("t1", "ROOT")).id).toBe("founder-root");
    expect(evolution.cachedTenants()).toBe(1);
    const timers = vi.getTimerCount();
    evolution.stop();
    expect(vi.getTimerCount()).toBe(timers - 1);
    await store.close();
  });

  it("holds at most maxCachedTenants, dropping the least recently used", async () => {
    const { clock, evolution } = await setup({ maxCachedTenants: 2 });
    for (const tenant of ["t1", "t2", "t3", "t4"]) {
      clock.advance(1);
      await evolution.service.genePool(tenant);
      expect(evolution.cachedTenants()).toBeLessThanOrEqual(2);
    }
    evolution.stop();
  });

  it("never drops a tenant while an evolution step holds it", async () => {
    const t = await createEvolvingOrchestrator(new ScriptedLlm(gradedScript()), {
      evolution: { tenantIdleMs: 1, maxCachedTenants: 1 },
    });
    const started = await t.orchestrator.start(A, { query: "q", evolution: "GENETIC", seed: 1 });
    const sweeps: number[] = [];
    const live = t.bus.subscribe("evolution", A);
    const first = live.next().then((r) => {
      sweeps.push(t.evolution.sweep());
      return r.value;
    });
    await t.orchestrator.events(A, started.id, 0);
    expect((await first)?.tenantId).toBe(A);
    expect(sweeps).toEqual([0]);
    await live.return?.();
    await t.close();
  });
});
