import { describe, expect, it } from "vitest";
import type { FitnessStats, PoolMember } from "../../src/domain/evolution.js";
import { EvolutionMemory } from "../../src/domain/evolution-memory.js";
import { DEFAULT_TRAITS, type Genome, makeTraits, TRAIT_NAMES } from "../../src/domain/genome.js";
import { createSeededRng } from "../../src/domain/random.js";
import type { AgentRole } from "../../src/domain/run.js";
import {
  adoptOffspring,
  bestMember,
  buildPools,
  currentGenome,
  fitnessObservation,
  type RolePool,
  scoredMembers,
  withMember,
} from "../../src/orchestrator/evolution/gene-pool.js";
import { geneticStep } from "../../src/orchestrator/evolution/genetic-step.js";
import { selfCorrectingStep } from "../../src/orchestrator/evolution/self-correcting-step.js";
import { founderGenome } from "../../src/orchestrator/founder-genomes.js";

const T = "tenant-a";
const NOW = new Date("2026-01-01T00:00:00Z");
const genome = (id: string, generation = 1, traits = DEFAULT_TRAITS): Genome => ({
  id,
  traits,
  parentIds: [],
  generation,
});
const stats = (...fitness: number[]): FitnessStats => ({
  evaluations: fitness.length,
  total: fitness.reduce((s, f) => s + f, 0),
  best: fitness.length ? Math.max(...fitness) : null,
  last: fitness.at(-1) ?? null,
});
const member = (id: string, fitness: number[], role: AgentRole = "CRITIC", generation = 1): PoolMember => ({
  tenantId: T,
  role,
  genome: genome(id, generation),
  stats: stats(...fitness),
  createdAt: NOW,
});
const poolOf = (members: PoolMember[], current: string | null = null): RolePool => ({
  role: "CRITIC",
  pointer:
    current === null
      ? null
      : { tenantId: T, role: "CRITIC", currentGenomeId: current, evolutions: 1, updatedAt: NOW },
  members,
});

describe("gene pool", () => {
  it("groups stored pools by role and starts every role from its founder", () => {
    const pools = buildPools({ pools: [], members: [member("g1", [0.5], "ROOT")] });
    expect([...pools.keys()]).toEqual(["ROOT", "RESEARCHER", "CRITIC"]);
    expect(pools.get("ROOT")?.members).toHaveLength(1);
    expect(currentGenome(pools.get("CRITIC") as RolePool)).toEqual(founderGenome("CRITIC"));
    expect(currentGenome(poolOf([member("g1", [])], "g1")).id).toBe("g1");
    expect(currentGenome(poolOf([], "gone")).id).toBe("founder-critic");
  });

  it("observes fitness for any genome, adding only the current one when missing", () => {
    const founder = founderGenome("CRITIC");
    const pool = poolOf([member("g1", [0.5])], "g1");
    expect(fitnessObservation(pool, genome("g1"), 0.75, NOW)).toEqual({
      role: "CRITIC",
      genome: genome("g1"),
      fitness: 0.75,
      at: NOW,
      addIfAbsent: true,
    });
    // The founder is no longer current: were it evicted, a late score would not bring it back.
    expect(fitnessObservation(pool, founder, 0.25, NOW)?.addIfAbsent).toBe(false);
    expect(fitnessObservation(poolOf([]), founder, 0.25, NOW)?.addIfAbsent).toBe(true);
    expect(fitnessObservation(pool, genome("g1"), Number.NaN, NOW)).toBeNull();
  });

  it("puts a member in place of the one with its genome id, or adds it last", () => {
    const pool = poolOf([member("a", [0.5]), member("b", [])]);
    const scored = member("b", [0.9]);
    expect(withMember(pool, scored).members).toEqual([member("a", [0.5]), scored]);
    expect(withMember(pool, member("c", [])).members.map((m) => m.genome.id)).toEqual(["a", "b", "c"]);
  });

  it("scores members by mean fitness and finds the best (ties: the oldest)", () => {
    const pool = poolOf([member("a", [0.5, 0.7]), member("b", []), member("c", [0.6]), member("d", [0.6])]);
    expect(scoredMembers(pool).map((s) => [s.genome.id, s.fitness])).toEqual([
      ["a", 0.6],
      ["c", 0.6],
      ["d", 0.6],
    ]);
    expect(bestMember(pool)?.genome.id).toBe("a");
    expect(bestMember(poolOf([member("x", [])]))).toBeNull();
  });

  it("adopts an offspring as current and evicts the weakest, never the best or the new current", () => {
    const pool = poolOf(
      [member("best", [0.9]), member("unscored", []), member("weak", [0.1]), member("mid", [0.5])],
      "mid",
    );
    const offspring = member("child", []);
    const out = adoptOffspring(pool, T, offspring, 3, NOW);
    expect(out.evicted).toEqual(["unscored", "weak"]);
    expect(out.pool.members.map((m) => m.genome.id)).toEqual(["best", "mid", "child"]);
    expect(out.pool.pointer).toEqual({
      tenantId: T,
      role: "CRITIC",
      currentGenomeId: "child",
      evolutions: 2,
      updatedAt: NOW,
    });
    // Elitism: even at size 1 the best survives, and so does the new current genome.
    const tight = adoptOffspring(pool, T, offspring, 1, NOW);
    expect(tight.pool.members.map((m) => m.genome.id)).toEqual(["best", "child"]);
  });
});

describe("GENETIC step", () => {
  const pool = poolOf(
    [member("a", [0.9], "CRITIC", 2), member("b", [0.2], "CRITIC", 5), member("c", [], "CRITIC", 7)],
    "c",
  );

  it("is deterministic for a seed and breeds only from scored genomes", () => {
    const x = geneticStep(pool, 0.5, createSeededRng(11));
    const y = geneticStep(pool, 0.5, createSeededRng(11));
    expect(y).toStrictEqual(x);
    expect(x.parentIds.every((id) => id === "a" || id === "b")).toBe(true);
    expect(x.generation).toBe(1 + Math.max(...x.parentIds.map((id) => (id === "a" ? 2 : 5))));
    expect(x.reason).toMatch(/over 2 scored CRITIC genome\(s\)/);
    const seeds = Array.from({ length: 20 }, (_, s) => geneticStep(pool, 0.5, createSeededRng(s)).traits);
    expect(new Set(seeds.map((t) => JSON.stringify(t))).size).toBeGreaterThan(10);
  });

  it("breeds from the current genome alone when nothing is scored yet", () => {
    const out = geneticStep(poolOf([]), 1, createSeededRng(3));
    expect(out.parentIds).toEqual(["founder-critic"]);
    expect(out.generation).toBe(1);
    for (const t of TRAIT_NAMES) {
      expect(out.traits[t]).not.toBe(0.5);
      expect(Math.abs(out.traits[t] - 0.5)).toBeLessThanOrEqual(0.2);
    }
  });
});

describe("SELF_CORRECTING step", () => {
  /** `n` CRITIC experiments whose fitness rises with exploration (weight w) plus noise. */
  const memoryWith = (n: number, w: number, seed = 7) => {
    const rng = createSeededRng(seed);
    const memory = new EvolutionMemory();
    for (let i = 0; i < n; i++) {
      const traits = makeTraits(Object.fromEntries(TRAIT_NAMES.map((t) => [t, rng.next()])));
      const fitness = Math.min(1, Math.max(0, 0.3 + w * traits.exploration + (rng.next() - 0.5) * 0.4));
      memory.record({
        id: `e${i}`,
        runId: `r${i}`,
        agentId: `a${i}`,
        role: "CRITIC",
        traits,
        fitness,
        recordedAt: new Date(NOW.getTime() + i),
      });
    }
    return memory;
  };

  it("says why below 10 experiments of the role", () => {
    const out = selfCorrectingStep({
      memory: memoryWith(9, 0.6),
      role: "CRITIC",
      traits: DEFAULT_TRAITS,
      reflection: [],
    });
    expect(out).toEqual({ applied: false, reason: "only 9 CRITIC experiment(s); correlations need 10" });
    const other = selfCorrectingStep({
      memory: memoryWith(30, 0.6),
      role: "ROOT",
      traits: DEFAULT_TRAITS,
      reflection: [],
    });
    expect(other.applied).toBe(false);
  });

  it("applies a strong correlation on its own, one step of 0.1", () => {
    const out = selfCorrectingStep({
      memory: memoryWith(40, 0.6),
      role: "CRITIC",
      traits: DEFAULT_TRAITS,
      reflection: [],
    });
    expect(out.applied).toBe(true);
    if (!out.applied) return;
    const exploration = out.adjustments.find((a) => a.trait === "exploration");
    expect(exploration).toMatchObject({ from: 0.5, source: "STATISTICS", support: "UNCORROBORATED" });
    expect(exploration?.to).toBeCloseTo(0.6, 12);
    expect(exploration?.confidence).toBeGreaterThanOrEqual(0.5);
    expect(out.traits.exploration).toBe(exploration?.to);
    expect(out.reason).toMatch(/^Self-correction from 40 CRITIC experiments: exploration 0\.50 → 0\.60/);
  });

  it("leaves a moderate correlation alone until the reflection agrees", () => {
    let memory: EvolutionMemory | undefined;
    for (let seed = 1; seed < 300 && memory === undefined; seed++) {
      const m = memoryWith(30, 0.25, seed);
      const r = m.correlations({ role: "CRITIC" }).exploration ?? 0;
      const others = TRAIT_NAMES.filter((t) => t !== "exploration").map((t) =>
        Math.abs(m.correlations({ role: "CRITIC" })[t] ?? 0),
      );
      if (r > 0.3 && r < 0.45 && Math.max(...others) < 0.3) memory = m;
    }
    expect(memory).toBeDefined();
    const input = { memory: memory as EvolutionMemory, role: "CRITIC" as const, traits: DEFAULT_TRAITS };
    const alone = selfCorrectingStep({ ...input, reflection: [] });
    expect(alone).toMatchObject({ applied: false });
    expect(alone.reason).toMatch(/^no suggestion reached confidence 0\.5: exploration 0\.50 → 0\.60/);
    const agreed = selfCorrectingStep({ ...input, reflection: [{ trait: "exploration", delta: 0.15 }] });
    expect(agreed.applied && agreed.adjustments[0]).toMatchObject({
      trait: "exploration",
      support: "AGREED",
    });
  });
});
