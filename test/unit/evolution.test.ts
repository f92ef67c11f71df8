import { describe, expect, it } from "vitest";
import { createOfflineLlm } from "../../src/adapters/offline-llm/offline-llm.js";
import type { RunEvent } from "../../src/domain/events.js";
import type { EvolutionRecord } from "../../src/domain/evolution.js";
import { meanFitness } from "../../src/domain/evolution.js";
import { DEFAULT_TRAITS, toLlmParams } from "../../src/domain/genome.js";
import { gradedScript } from "../fakes/graded-llm.js";
import { challengeVerdict, defaultScript, ScriptedLlm } from "../fakes/scripted-llm.js";
import { createEvolvingOrchestrator } from "../support/evolution.js";

const A = "tenant-a";
const B = "tenant-b";
const BASE = 400;

/** The Critic's first answer is challenged, so the Critic is the run's worst-scoring role. */
const criticChallenged = () =>
  new ScriptedLlm((req, turn) =>
    req.tag.kind === "CHALLENGE" && req.tag.role === "CRITIC" && req.tag.round === 1
      ? challengeVerdict(0.9)
      : defaultScript(req, turn),
  );

const applied = (events: readonly RunEvent[]): EvolutionRecord[] =>
  events.flatMap((e) => (e.type === "EvolutionApplied" ? [e.record] : []));

describe("GENETIC evolution", () => {
  it("changes the worst-scoring role's genome, and the next run's requests carry its parameters", async () => {
    const llm = criticChallenged();
    const t = await createEvolvingOrchestrator(llm, { evolution: { mutationRate: 1 } });
    const first = await t.run(A, { query: "q1", evolution: "GENETIC", seed: 7 });
    const [record] = applied(first.events);
    expect(record).toMatchObject({
      kind: "GENETIC",
      role: "CRITIC",
      tenantId: A,
      runId: first.run.id,
      before: DEFAULT_TRAITS,
      parentGenomeIds: ["founder-critic"],
      generation: 1,
    });
    expect(record?.after).not.toEqual(DEFAULT_TRAITS);
    expect(record?.reason).toMatch(/Worst-scoring role CRITIC .*Tournament selection \(k=2\)/);
    // Emitted (and stored) before RunFinished.
    const types = first.events.map((e) => e.type);
    expect(types.indexOf("EvolutionApplied")).toBe(types.length - 2);
    expect((await t.evolutionStore.records.list(A, { first: 5 })).items).toStrictEqual([record]);

    const pool = await t.evolution.service.genePool(A);
    const critic = pool.find((p) => p.role === "CRITIC");
    expect(critic).toMatchObject({
      genome: { id: record?.offspringGenomeId, traits: record?.after },
      historySize: 1,
    });
    expect(pool.filter((p) => p.role !== "CRITIC").map((p) => p.genome.id)).toEqual([
      "founder-root",
      "founder-researcher",
    ]);

    // The next run (any mode) runs the Critic with the offspring's parameters, the others unchanged.
    const second = await t.run(A, { query: "q2", evolution: "OFF" });
    const calls = llm.requests.filter((r) => r.tag.runId === second.run.id);
    const founder = toLlmParams(DEFAULT_TRAITS, BASE);
    const evolved = toLlmParams(record?.after ?? DEFAULT_TRAITS, BASE);
    expect(evolved).not.toEqual(founder);
    for (const r of calls) expect(r.params).toEqual(r.tag.role === "CRITIC" ? evolved : founder);
    expect(calls.filter((r) => r.tag.role === "CRITIC").length).toBeGreaterThan(0);
    await t.close();
  });

  it("publishes each record on its tenant's evolution topic only", async () => {
    const t = await createEvolvingOrchestrator(new ScriptedLlm());
    const liveA = t.bus.subscribe("evolution", A);
    const liveB = t.bus.subscribe("evolution", B);
    const a = await t.run(A, { query: "q", evolution: "GENETIC", seed: 1 });
    const b = await t.run(B, { query: "q", evolution: "GENETIC", seed: 1 });
    expect((await liveB.next()).value).toStrictEqual(applied(b.events)[0]);
    expect((await liveA.next()).value).toStrictEqual(applied(a.events)[0]);
    await liveA.return?.();
    await liveB.return?.();
    await t.close();
  });

  it("records fitness in OFF mode but never changes a genome", async () => {
    const t = await createEvolvingOrchestrator(new ScriptedLlm());
    for (const query of ["q1", "q2"]) {
      const { events } = await t.run(A, { query, evolution: "OFF" });
      expect(applied(events)).toEqual([]);
    }
    const pool = await t.evolution.service.genePool(A);
    expect(pool.map((p) => [p.genome.id, p.fitness.evaluations, p.historySize])).toEqual([
      ["founder-root", 2, 0],
      ["founder-researcher", 2, 0],
      ["founder-critic", 2, 0],
    ]);
    expect((await t.evolutionStore.records.list(A, { first: 5 })).items).toEqual([]);
    await t.close();
  });

  it("never loses the best genome: with a pool of 2, the best mean fitness never drops (elitism)", async () => {
    const t = await createEvolvingOrchestrator(new ScriptedLlm(gradedScript()), {
      evolution: { maxPoolSize: 2 },
    });
    let best = 0;
    for (let i = 0; i < 30; i++) {
      await t.run(A, { query: `q${i}`, evolution: "GENETIC", seed: 100 + i });
      const { members } = await t.evolutionStore.pools.load(A);
      for (const role of ["ROOT", "RESEARCHER", "CRITIC"] as const) {
        expect(members.filter((m) => m.role === role).length).toBeLessThanOrEqual(2);
      }
      const top = Math.max(...members.map((m) => meanFitness(m.stats) ?? 0));
      expect(top).toBeGreaterThanOrEqual(best);
      best = top;
    }
    expect(best).toBeGreaterThan((0.5 + 0.219) / 1.5);
    await t.close();
  });
});

describe("SELF_CORRECTING evolution", () => {
  it("records each agent result as an experiment with the genome it ran with, and falls back below 10", async () => {
    const t = await createEvolvingOrchestrator(new ScriptedLlm(gradedScript()), {
      evolution: { mutationRate: 1 },
    });
    for (let i = 0; i < 3; i++) {
      const { run, events } = await t.run(A, { query: `q${i}`, evolution: "SELF_CORRECTING", seed: i });
      const agents = await t.store.agents.listByRun(A, run.id);
      const stored = (await t.evolutionStore.experiments.listAll(A)).filter((e) => e.runId === run.id);
      expect(stored.map((e) => [e.agentId, e.role, e.traits, e.fitness])).toEqual(
        agents.map((a) => [a.id, a.role, a.genome.traits, a.fitness]),
      );
      const [record] = applied(events);
      expect(record?.kind).toBe("GENETIC");
      expect(record?.reason).toMatch(
        /^Self-correction applied nothing \(only \d+ \w+ experiment\(s\); correlations need 10\.\); fell back to the GENETIC step\./,
      );
    }
    const snapshot = await t.evolution.service.memorySnapshot(A);
    expect(snapshot.map((e) => e.id)).toEqual(
      (await t.evolutionStore.experiments.listAll(A)).map((e) => e.id),
    );
    await t.close();
  });

  it("applies statistical suggestions once the signal is clear: the threshold is reachable", async () => {
    const llm = new ScriptedLlm(gradedScript());
    const t = await createEvolvingOrchestrator(llm, { evolution: { mutationRate: 1 } });
    let corrected: EvolutionRecord | undefined;
    let i = 0;
    for (; i < 40 && corrected === undefined; i++) {
      const { events } = await t.run(A, { query: `q${i}`, evolution: "SELF_CORRECTING", seed: 500 + i });
      corrected = applied(events).find((r) => r.kind === "SELF_CORRECTING");
    }
    expect(corrected).toBeDefined();
    expect(corrected?.adjustments.length).toBeGreaterThan(0);
    for (const adj of corrected?.adjustments ?? []) {
      expect(adj.confidence).toBeGreaterThanOrEqual(0.5);
      expect(Math.abs(adj.to - adj.from)).toBeCloseTo(0.1, 10);
      expect(corrected?.after[adj.trait]).toBe(adj.to);
    }
    expect(corrected?.parentGenomeIds).toHaveLength(1);
    // Reflection was asked only once the role had 10 experiments, tagged with the run and the role.
    const reflections = llm.callsOf("REFLECTION");
    expect(reflections.length).toBeGreaterThan(0);
    expect(reflections.every((r) => r.tag.tenantId === A && r.json === true)).toBe(true);
    // The next run's agents of that role run with the corrected genome.
    const next = await t.run(A, { query: "next", evolution: "OFF" });
    const params = llm.requests.filter((r) => r.tag.runId === next.run.id && r.tag.role === corrected?.role);
    expect(params[0]?.params).toEqual(toLlmParams(corrected?.after ?? DEFAULT_TRAITS, BASE));
    await t.close();
  });

  it("counts an agreeing LLM reflection as support for a statistical suggestion", async () => {
    const reflection = JSON.stringify({
      adjustments: [{ trait: "exploration", delta: -0.1, reasoning: "Lower temperature reads better." }],
      reasoning: "Too loose.",
    });
    const t = await createEvolvingOrchestrator(new ScriptedLlm(gradedScript({ REFLECTION: reflection })), {
      evolution: { mutationRate: 1 },
    });
    const records: EvolutionRecord[] = [];
    for (let i = 0; i < 40; i++) {
      records.push(
        ...applied((await t.run(A, { query: `q${i}`, evolution: "SELF_CORRECTING", seed: 900 + i })).events),
      );
    }
    const agreed = records.flatMap((r) => r.adjustments).filter((a) => a.support === "AGREED");
    expect(agreed.length).toBeGreaterThan(0);
    expect(agreed.every((a) => a.trait !== "exploration" || a.to < a.from)).toBe(true);
    expect(records.some((r) => r.reason.includes('"Too loose."'))).toBe(true);
    await t.close();
  });
});

describe("tenancy and determinism", () => {
  it("evolution of tenant A never changes tenant B's pool, memory or rules", async () => {
    const llm = new ScriptedLlm(
      gradedScript({
        CONSOLIDATION: JSON.stringify({ rules: [{ rule: "x", traits: ["verbosity"], confidence: 1 }] }),
      }),
    );
    const t = await createEvolvingOrchestrator(llm, {
      evolution: { consolidationTrigger: 6, consolidationBatch: 3 },
    });
    await t.run(B, { query: "b", evolution: "GENETIC", seed: 3 });
    const snapshot = async () => ({
      stored: await t.evolutionStore.pools.load(B),
      pool: await t.evolution.service.genePool(B),
      memory: await t.evolution.service.memorySnapshot(B),
      rules: (await t.evolutionStore.rules.list(B, { first: 5 })).items,
      records: (await t.evolutionStore.records.list(B, { first: 5 })).items,
    });
    const before = await snapshot();
    for (let i = 0; i < 12; i++) {
      await t.run(A, { query: `a${i}`, evolution: i % 2 === 0 ? "GENETIC" : "SELF_CORRECTING", seed: 3 });
    }
    expect((await t.evolutionStore.rules.list(A, { first: 5 })).items).toHaveLength(1);
    expect(await snapshot()).toStrictEqual(before);
    const b = await t.run(B, { query: "b2", evolution: "OFF" });
    expect(
      llm.requests.filter((r) => r.tag.runId === b.run.id).some((r) => r.system.includes("Guidance")),
    ).toBe(false);
    await t.close();
  });

  it("gives bit-identical pools, records and experiments for the same seeds on two fresh orchestrators", async () => {
    const replay = async () => {
      const t = await createEvolvingOrchestrator(new ScriptedLlm(gradedScript()));
      for (let i = 0; i < 24; i++) {
        await t.run(A, { query: `q${i}`, evolution: i < 12 ? "GENETIC" : "SELF_CORRECTING", seed: 1000 + i });
      }
      const state = {
        pools: await t.evolutionStore.pools.load(A),
        records: (await t.evolutionStore.records.list(A, { first: 100 })).items,
        experiments: await t.evolutionStore.experiments.listAll(A),
      };
      await t.close();
      return state;
    };
    const [x, y] = [await replay(), await replay()];
    expect(x.records).toHaveLength(24);
    expect(x.records.some((r) => r.after.exploration !== 0.5)).toBe(true);
    expect(y).toStrictEqual(x);
  });
});

describe("the offline provider", () => {
  it("evolves and self-corrects with it too (its reflection and consolidation answers parse)", async () => {
    const warnings: string[] = [];
    const t = await createEvolvingOrchestrator(createOfflineLlm(), {
      evolution: { consolidationTrigger: 30, consolidationBatch: 30 },
      warnings,
    });
    for (let i = 0; i < 13; i++) {
      const { events } = await t.run(A, {
        query: `q${i}`,
        evolution: i < 2 ? "GENETIC" : "SELF_CORRECTING",
        seed: i,
      });
      expect(applied(events)).toHaveLength(1);
    }
    // 11 SELF_CORRECTING runs: consolidated once at 30 experiments (offline: no rules), removing those 30.
    expect(await t.evolution.service.memorySnapshot(A)).toHaveLength(11 * 3 - 30);
    expect(warnings).toEqual([]);
    await t.close();
  });
});
