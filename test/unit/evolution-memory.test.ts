import { describe, expect, it } from "vitest";
import {
  DEFAULT_MEMORY_CAPACITY,
  EvolutionMemory,
  type Experiment,
  IMPORTANCE_HALF_LIFE_MS,
  MAX_MEMORY_CAPACITY,
  MIN_EXPERIMENTS_FOR_CORRELATION,
  type NewExperiment,
  pearson,
} from "../../src/domain/evolution-memory.js";
import { DEFAULT_TRAITS, makeTraits, type TraitName, type Traits } from "../../src/domain/genome.js";
import { createSeededRng } from "../../src/domain/random.js";
import type { AgentRole } from "../../src/domain/run.js";

const T0 = Date.UTC(2025, 0, 1);

const exp = (
  i: number,
  fitness: number,
  traits: Partial<Record<TraitName, number>> = {},
  opts: { at?: number; role?: AgentRole } = {},
): NewExperiment => ({
  id: `e${i}`,
  runId: `r${Math.floor(i / 3)}`,
  agentId: `a${i}`,
  role: opts.role ?? "RESEARCHER",
  traits: makeTraits(traits),
  fitness,
  recordedAt: new Date(opts.at ?? T0 + i * 1000),
});

/** n experiments where exploration rises linearly with fitness. */
const linear = (n: number): NewExperiment[] =>
  Array.from({ length: n }, (_, i) => exp(i, 0.2 + (0.6 * i) / (n - 1), { exploration: i / (n - 1) }));

const fill = (m: EvolutionMemory, list: NewExperiment[]) => {
  for (const e of list) m.record(e);
  return m;
};

describe("pearson", () => {
  it("is 0.5 for x = 1..5, y = [3,1,4,2,5]", () => {
    expect(pearson([1, 2, 3, 4, 5], [3, 1, 4, 2, 5])).toBeCloseTo(0.5, 12);
  });

  it("is ±1 for perfect linear relations", () => {
    expect(pearson([1, 2, 3, 4, 5], [2, 4, 6, 8, 10])).toBeCloseTo(1, 12);
    expect(pearson([1, 2, 3, 4, 5], [10, 8, 6, 4, 2])).toBeCloseTo(-1, 12);
  });

  it("is 0 for empty, mismatched, constant or non-finite input", () => {
    expect(pearson([], [])).toBe(0);
    expect(pearson([1, 2, 3], [1, 2])).toBe(0);
    expect(pearson([1, 1, 1], [1, 2, 3])).toBe(0);
    expect(pearson([0, 0, 0], [1, 2, 3])).toBe(0);
    expect(pearson([1, Number.NaN, 3], [1, 2, 3])).toBe(0);
    expect(pearson([1, 2, 3], [1, Number.POSITIVE_INFINITY, 3])).toBe(0);
    expect(pearson([1, 2, Number.NEGATIVE_INFINITY], [1, 2, 3])).toBe(0);
    expect(pearson([7], [3])).toBe(0);
  });

  it("stays finite (and right) for huge values", () => {
    const r = pearson([1e300, 2e300, 3e300, 4e300, 5e300], [3e300, 1e300, 4e300, 2e300, 5e300]);
    expect(Number.isFinite(r)).toBe(true);
    expect(r).toBeCloseTo(0.5, 10);
    expect(pearson([Number.MAX_VALUE, -Number.MAX_VALUE, 0], [1, -1, 0])).toBeCloseTo(1, 10);
  });

  it("is always within [−1, 1]", () => {
    const rng = createSeededRng(11);
    for (let i = 0; i < 200; i++) {
      const x = Array.from({ length: 8 }, () => rng.next());
      const y = x.map((v) => v * 3 + 1e-15 * rng.next());
      const r = pearson(x, y);
      expect(r).toBeLessThanOrEqual(1);
      expect(r).toBeGreaterThanOrEqual(-1);
    }
  });
});

describe("EvolutionMemory: capacity and order", () => {
  it("records one experiment with importance = fitness", () => {
    const m = fill(new EvolutionMemory(), [exp(1, 0.7)]);
    expect(m.size).toBe(1);
    expect(m.snapshot()[0]).toMatchObject({ id: "e1", fitness: 0.7, importance: 0.7 });
  });

  it("defaults to 500 and caps capacity at 10,000", () => {
    expect(new EvolutionMemory().capacity).toBe(DEFAULT_MEMORY_CAPACITY);
    expect(DEFAULT_MEMORY_CAPACITY).toBe(500);
    expect(new EvolutionMemory({ capacity: 1_000_000 }).capacity).toBe(MAX_MEMORY_CAPACITY);
    expect(MAX_MEMORY_CAPACITY).toBe(10_000);
    for (const capacity of [0, -5, 2.5, Number.NaN]) {
      expect(() => new EvolutionMemory({ capacity })).toThrow(/capacity/);
    }
  });

  it("capacity 5 with 10 records keeps 5", () => {
    const m = fill(
      new EvolutionMemory({ capacity: 5 }),
      Array.from({ length: 10 }, (_, i) => exp(i, 0.5)),
    );
    expect(m.size).toBe(5);
  });

  it("keeps ≤ 500 of 10,000 records, still oldest → newest", () => {
    const rng = createSeededRng(99);
    const m = new EvolutionMemory();
    for (let i = 0; i < 10_000; i++) {
      m.record(exp(i, Math.round(rng.next() * 100) / 100, { exploration: rng.next() }));
      expect(m.size).toBeLessThanOrEqual(500);
    }
    const kept = m.snapshot();
    expect(kept).toHaveLength(500);
    const seq = kept.map((e) => Number(e.id.slice(1)));
    for (let i = 1; i < seq.length; i++) expect(seq[i]!).toBeGreaterThan(seq[i - 1]!);
    for (let i = 1; i < kept.length; i++) {
      expect(kept[i]!.recordedAt.getTime()).toBeGreaterThan(kept[i - 1]!.recordedAt.getTime());
    }
  });

  it("evicts the lowest importance without reordering the rest (ties: the oldest)", () => {
    const m = fill(new EvolutionMemory({ capacity: 4 }), [
      exp(0, 0.9),
      exp(1, 0.1),
      exp(2, 0.8),
      exp(3, 0.7),
    ]);
    const evicted = m.record(exp(4, 0.6));
    expect(evicted.map((e) => e.id)).toEqual(["e1"]);
    expect(m.snapshot().map((e) => e.id)).toEqual(["e0", "e2", "e3", "e4"]);
    // ties: the oldest of the equally unimportant goes
    const t = fill(new EvolutionMemory({ capacity: 2 }), [exp(0, 0.5), exp(1, 0.5)]);
    expect(t.record(exp(2, 0.5)).map((e) => e.id)).toEqual(["e0"]);
    // a new experiment less important than everything kept is itself evicted
    expect(m.record(exp(5, 0.05)).map((e) => e.id)).toEqual(["e5"]);
  });

  it("inserts a late-arriving older experiment at its place in time", () => {
    const m = fill(new EvolutionMemory(), [exp(0, 0.5), exp(2, 0.5)]);
    m.record(exp(1, 0.5));
    expect(m.snapshot().map((e) => e.id)).toEqual(["e0", "e1", "e2"]);
  });

  it("rejects invalid experiments and duplicate ids with a clear Error", () => {
    const m = fill(new EvolutionMemory(), [exp(1, 0.5)]);
    expect(() => m.record(exp(1, 0.5))).toThrow(/duplicate experiment id e1/);
    expect(() => m.record(exp(2, Number.NaN))).toThrow(/fitness/);
    expect(() => m.record(exp(3, 1.5))).toThrow(/fitness/);
    expect(() => m.record({ ...exp(4, 0.5), traits: { ...DEFAULT_TRAITS, precision: Number.NaN } })).toThrow(
      /trait precision/,
    );
    expect(() => m.record({ ...exp(5, 0.5), recordedAt: new Date(Number.NaN) })).toThrow(/recordedAt/);
    expect(() => m.record({ ...exp(6, 0.5), role: "BOSS" as AgentRole })).toThrow(/unknown role/);
    expect(m.size).toBe(1);
  });
});

describe("EvolutionMemory: decay", () => {
  it("halves importance per half-life, idempotently", () => {
    const m = fill(new EvolutionMemory(), [exp(0, 0.8, {}, { at: T0 })]);
    m.decay(new Date(T0 + IMPORTANCE_HALF_LIFE_MS));
    expect(m.snapshot()[0]!.importance).toBeCloseTo(0.4, 12);
    m.decay(new Date(T0 + IMPORTANCE_HALF_LIFE_MS));
    expect(m.snapshot()[0]!.importance).toBeCloseTo(0.4, 12);
    m.decay(new Date(T0 + 2 * IMPORTANCE_HALF_LIFE_MS));
    expect(m.snapshot()[0]!.importance).toBeCloseTo(0.2, 12);
    // a clock going backwards never raises importance again
    m.decay(new Date(T0));
    expect(m.snapshot()[0]!.importance).toBeCloseTo(0.2, 12);
    expect(m.snapshot()[0]!.fitness).toBe(0.8);
  });

  it("makes old experiments evictable before newer ones of equal fitness", () => {
    const m = new EvolutionMemory({ capacity: 2 });
    m.record(exp(0, 0.6, {}, { at: T0 }));
    m.record(exp(1, 0.6, {}, { at: T0 + IMPORTANCE_HALF_LIFE_MS }));
    // recording decays the others to the new experiment's time: e0 is now 0.3 at the second insert, then 0.15
    const evicted = m.record(exp(2, 0.4, {}, { at: T0 + 2 * IMPORTANCE_HALF_LIFE_MS }));
    expect(evicted.map((e) => e.id)).toEqual(["e0"]);
    expect(m.snapshot().map((e) => e.id)).toEqual(["e1", "e2"]);
  });

  it("rejects an invalid date", () => {
    expect(() => new EvolutionMemory().decay(new Date(Number.NaN))).toThrow(/valid Date/);
  });
});

describe("EvolutionMemory: correlations and suggestions", () => {
  it("needs at least 10 experiments", () => {
    expect(MIN_EXPERIMENTS_FOR_CORRELATION).toBe(10);
    const m = fill(new EvolutionMemory(), linear(9));
    expect(m.correlations()).toEqual({});
    expect(m.suggestAdjustments(DEFAULT_TRAITS)).toEqual([]);
    m.record(exp(100, 0.9, { exploration: 1 }, { at: T0 + 100_000 }));
    expect(Object.keys(m.correlations())).toEqual([
      "exploration",
      "precision",
      "creativity",
      "skepticism",
      "verbosity",
    ]);
  });

  it("20 linear experiments give exploration r > 0.5 and a suggestion to increase it", () => {
    const m = fill(new EvolutionMemory(), linear(20));
    const r = m.correlations();
    expect(r.exploration!).toBeGreaterThan(0.5);
    expect(r.precision).toBe(0); // constant trait: no signal
    const s = m.suggestAdjustments(DEFAULT_TRAITS);
    expect(s).toHaveLength(1);
    expect(s[0]).toMatchObject({ trait: "exploration", current: 0.5, confidence: r.exploration });
    expect(s[0]!.suggested).toBeCloseTo(0.6, 12);
  });

  it("15 linear experiments also suggest increasing exploration", () => {
    const s = fill(new EvolutionMemory(), linear(15)).suggestAdjustments(DEFAULT_TRAITS);
    expect(s.find((x) => x.trait === "exploration")!.suggested).toBeGreaterThan(0.5);
  });

  it("suggests decreases for negative correlations, clamps, and skips traits already at the bound", () => {
    const list = Array.from({ length: 12 }, (_, i) =>
      exp(i, 0.9 - 0.05 * i, { exploration: i / 11, skepticism: 1 - i / 11 }),
    );
    const m = fill(new EvolutionMemory(), list);
    const atEdges: Traits = makeTraits({ exploration: 0, skepticism: 1 });
    expect(m.suggestAdjustments(atEdges)).toEqual([]);
    const s = m.suggestAdjustments(makeTraits({ exploration: 0.05, skepticism: 0.95 }));
    expect(s.map((x) => x.trait)).toEqual(["exploration", "skepticism"]);
    expect(s[0]!.suggested).toBe(0);
    expect(s[1]!.suggested).toBe(1);
  });

  it("gives no suggestion for weak, noisy signals", () => {
    const rng = createSeededRng(5);
    const list = Array.from({ length: 200 }, (_, i) =>
      exp(i, rng.next(), { exploration: rng.next(), verbosity: rng.next() }),
    );
    const m = fill(new EvolutionMemory(), list);
    const r = m.correlations();
    expect(Math.abs(r.exploration!)).toBeLessThan(0.3);
    expect(m.suggestAdjustments(DEFAULT_TRAITS)).toEqual([]);
  });

  it("recomputes from the current contents: nothing stale after removal", () => {
    const m = fill(new EvolutionMemory(), linear(20));
    expect(m.correlations().exploration).toBeGreaterThan(0.5);
    m.removeExactly(m.oldest(15).map((e) => e.id));
    expect(m.correlations()).toEqual({});
    expect(m.suggestAdjustments(DEFAULT_TRAITS)).toEqual([]);
  });

  it("can restrict statistics to one role", () => {
    const critics = Array.from({ length: 10 }, (_, i) =>
      exp(100 + i, 0.1 + 0.08 * i, { skepticism: i / 9 }, { role: "CRITIC", at: T0 + 100_000 + i }),
    );
    const m = fill(new EvolutionMemory(), [...linear(10), ...critics]);
    expect(m.correlations({ role: "CRITIC" }).skepticism).toBeCloseTo(1, 10);
    expect(m.correlations({ role: "ROOT" })).toEqual({});
  });
});

describe("EvolutionMemory: consolidation and restart", () => {
  it("oldest(50) returns the 50 oldest and removeExactly removes exactly those", () => {
    const m = fill(
      new EvolutionMemory(),
      Array.from({ length: 70 }, (_, i) => exp(i, 0.5)),
    );
    const batch = m.oldest(50);
    expect(batch.map((e) => e.id)).toEqual(Array.from({ length: 50 }, (_, i) => `e${i}`));
    // new experiments arrive while the LLM consolidates
    m.record(exp(70, 0.5));
    m.record(exp(71, 0.5));
    const removed = m.removeExactly(batch.map((e) => e.id));
    expect(removed.map((e) => e.id)).toEqual(batch.map((e) => e.id));
    expect(m.snapshot().map((e) => e.id)).toEqual(Array.from({ length: 22 }, (_, i) => `e${50 + i}`));
  });

  it("removeExactly ignores unknown ids and leaves everything else", () => {
    const m = fill(new EvolutionMemory(), [exp(0, 0.5), exp(1, 0.5), exp(2, 0.5)]);
    expect(m.removeExactly(["e1", "nope"]).map((e) => e.id)).toEqual(["e1"]);
    expect(m.snapshot().map((e) => e.id)).toEqual(["e0", "e2"]);
    expect(m.oldest(10)).toHaveLength(2);
    expect(() => m.oldest(-1)).toThrow();
  });

  it("rebuilds from a snapshot, in time order, with importances preserved", () => {
    const m = fill(new EvolutionMemory(), linear(20));
    m.decay(new Date(T0 + IMPORTANCE_HALF_LIFE_MS));
    const stored: Experiment[] = [...m.snapshot()].reverse();
    const back = new EvolutionMemory({ experiments: stored });
    expect(back.snapshot()).toEqual(m.snapshot());
    expect(back.correlations()).toEqual(m.correlations());
  });

  it("applies the cap when rebuilding, evicting by importance", () => {
    const stored: Experiment[] = Array.from({ length: 6 }, (_, i) => ({
      ...exp(i, 0.5),
      importance: i / 10,
    }));
    const back = new EvolutionMemory({ capacity: 4, experiments: stored });
    expect(back.snapshot().map((e) => e.id)).toEqual(["e2", "e3", "e4", "e5"]);
  });

  it("rejects duplicate ids and bad importance when rebuilding", () => {
    const e = { ...exp(0, 0.5), importance: 0.5 };
    expect(() => new EvolutionMemory({ experiments: [e, e] })).toThrow(/duplicate/);
    expect(() => new EvolutionMemory({ experiments: [{ ...e, importance: Number.NaN }] })).toThrow(
      /importance/,
    );
  });

  it("snapshots are copies: changing one does not change the memory", () => {
    const m = fill(new EvolutionMemory(), [exp(0, 0.5)]);
    const snap = m.snapshot() as Experiment[];
    snap.pop();
    expect(m.size).toBe(1);
    expect(Object.isFrozen(m.snapshot()[0])).toBe(true);
  });
});
