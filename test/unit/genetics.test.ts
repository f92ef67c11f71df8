import { describe, expect, it } from "vitest";
import {
  breed,
  crossover,
  MUTATION_SPAN,
  mutate,
  type ScoredGenome,
  TOURNAMENT_SIZE,
  tournamentSelect,
  tournamentSelectIndex,
} from "../../src/domain/genetics.js";
import {
  DEFAULT_TRAITS,
  type Genome,
  makeTraits,
  TRAIT_NAMES,
  traitsToArray,
} from "../../src/domain/genome.js";
import { createSeededRng } from "../../src/domain/random.js";
import type { Rng } from "../../src/domain/rng.js";

const ZEROS = makeTraits({ exploration: 0, precision: 0, creativity: 0, skepticism: 0, verbosity: 0 });
const ONES = makeTraits({ exploration: 1, precision: 1, creativity: 1, skepticism: 1, verbosity: 1 });

const genome = (id: string, traits = DEFAULT_TRAITS): Genome => ({
  id,
  traits,
  parentIds: [],
  generation: 0,
});
const scored = (id: string, fitness: number): ScoredGenome => ({ genome: genome(id), fitness });

/** An Rng that replays fixed values (to pin exact draws). */
const scripted = (values: number[]): Rng => {
  let i = 0;
  return {
    next() {
      const v = values[i++];
      if (v === undefined) throw new Error("scripted rng exhausted");
      return v;
    },
  };
};

describe("tournamentSelect", () => {
  it("uses k = 2 by default in the design", () => {
    expect(TOURNAMENT_SIZE).toBe(2);
  });

  it("throws a clear Error on an empty population", () => {
    expect(() => tournamentSelect([], 2, createSeededRng(1))).toThrow(/population is empty/);
  });

  it("rejects a k that is not a positive integer", () => {
    const pop = [scored("a", 0.5)];
    for (const k of [0, -1, 1.5, Number.NaN]) {
      expect(() => tournamentSelect(pop, k, createSeededRng(1))).toThrow(/k must be a positive integer/);
    }
  });

  it("keeps the strictly fitter candidate", () => {
    const pop = [scored("low", 0.2), scored("high", 0.9)];
    // draws: index 0 then index 1 → the later, fitter one wins
    expect(tournamentSelect(pop, 2, scripted([0.1, 0.9])).id).toBe("high");
    // draws: index 1 then index 0 → the first stays
    expect(tournamentSelect(pop, 2, scripted([0.9, 0.1])).id).toBe("high");
  });

  it("keeps the earlier draw on ties", () => {
    const pop = [scored("a", 0.5), scored("b", 0.5)];
    expect(tournamentSelect(pop, 2, scripted([0.1, 0.9])).id).toBe("a");
    expect(tournamentSelect(pop, 2, scripted([0.9, 0.1])).id).toBe("b");
  });

  it("draws with replacement and consumes exactly k values", () => {
    const pop = [scored("a", 0.1), scored("b", 0.9)];
    // both draws hit index 0: the weaker genome can win when it is drawn twice
    expect(tournamentSelectIndex(pop, 2, scripted([0.2, 0.3]))).toBe(0);
    expect(tournamentSelectIndex(pop, 3, scripted([0.2, 0.3, 0.7]))).toBe(1);
  });

  it("never lets a non-finite fitness win over a finite one", () => {
    const pop = [scored("nan", Number.NaN), scored("ok", 0.1)];
    expect(tournamentSelect(pop, 2, scripted([0.1, 0.9])).id).toBe("ok");
  });

  it("favours fitter genomes over many tournaments", () => {
    const pop = [scored("a", 0.1), scored("b", 0.5), scored("c", 0.9)];
    const rng = createSeededRng(7);
    const wins = { a: 0, b: 0, c: 0 } as Record<string, number>;
    for (let i = 0; i < 3000; i++) wins[tournamentSelect(pop, 2, rng).id]!++;
    // expected shares with k = 2: 1/9, 3/9, 5/9
    expect(wins.c!).toBeGreaterThan(wins.b!);
    expect(wins.b!).toBeGreaterThan(wins.a!);
  });
});

describe("crossover", () => {
  it("of all-0 and all-1 parents gives only 0s and 1s, always a real mix", () => {
    for (let seed = 0; seed < 200; seed++) {
      const child = traitsToArray(crossover(ZEROS, ONES, createSeededRng(seed)));
      for (const v of child) expect([0, 1]).toContain(v);
      expect(child).toContain(0);
      expect(child).toContain(1);
    }
  });

  it("is a single cut: one switch between the parents", () => {
    for (let seed = 0; seed < 100; seed++) {
      const child = traitsToArray(crossover(ZEROS, ONES, createSeededRng(seed)));
      const switches = child.slice(1).filter((v, i) => v !== child[i]).length;
      expect(switches).toBe(1);
    }
  });

  it("over many seeds lets both parents contribute every trait, and every cut point occur", () => {
    const fromA = Object.fromEntries(TRAIT_NAMES.map((n) => [n, 0])) as Record<string, number>;
    const cuts = new Set<number>();
    const runs = 2000;
    for (let seed = 0; seed < runs; seed++) {
      const child = crossover(ZEROS, ONES, createSeededRng(seed));
      for (const n of TRAIT_NAMES) if (child[n] === 0) fromA[n]!++;
      const arr = traitsToArray(child);
      cuts.add(arr.findIndex((v) => v !== arr[0]));
    }
    for (const n of TRAIT_NAMES) {
      expect(fromA[n]!).toBeGreaterThan(runs * 0.4);
      expect(fromA[n]!).toBeLessThan(runs * 0.6);
    }
    expect([...cuts].sort()).toEqual([1, 2, 3, 4]);
  });

  it("pins the cut point to 1..n−1 and the orientation to the second draw", () => {
    // point = 1 + floor(0 × 4) = 1, no swap → [a, b, b, b, b]
    expect(traitsToArray(crossover(ZEROS, ONES, scripted([0, 0.9])))).toEqual([0, 1, 1, 1, 1]);
    // point = 1 + floor(0.99 × 4) = 4, swap → [b, b, b, b, a]
    expect(traitsToArray(crossover(ZEROS, ONES, scripted([0.99, 0.1])))).toEqual([1, 1, 1, 1, 0]);
  });
});

describe("mutate", () => {
  const mid = makeTraits({
    exploration: 0.5,
    precision: 0.4,
    creativity: 0.6,
    skepticism: 0.3,
    verbosity: 0.7,
  });

  it("at rate 1 changes every trait, by at most ±0.2", () => {
    for (let seed = 0; seed < 100; seed++) {
      const out = mutate(mid, 1, createSeededRng(seed));
      for (const n of TRAIT_NAMES) {
        expect(out[n]).not.toBe(mid[n]);
        expect(Math.abs(out[n] - mid[n])).toBeLessThanOrEqual(MUTATION_SPAN + 1e-12);
      }
    }
  });

  it("stays in [0,1] at the edges", () => {
    for (let seed = 0; seed < 200; seed++) {
      for (const base of [ZEROS, ONES]) {
        for (const v of traitsToArray(mutate(base, 1, createSeededRng(seed)))) {
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual(1);
        }
      }
    }
  });

  it("at rate 0 changes nothing", () => {
    for (let seed = 0; seed < 50; seed++) expect(mutate(mid, 0, createSeededRng(seed))).toEqual(mid);
  });

  it("mutates about rate × traits on average", () => {
    const rng = createSeededRng(3);
    let changed = 0;
    for (let i = 0; i < 1000; i++) {
      const out = mutate(mid, 0.3, rng);
      changed += TRAIT_NAMES.filter((n) => out[n] !== mid[n]).length;
    }
    expect(changed / 5000).toBeGreaterThan(0.25);
    expect(changed / 5000).toBeLessThan(0.35);
  });

  it("throws on a rate outside [0,1] instead of clamping it", () => {
    for (const rate of [-0.1, 1.01, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => mutate(mid, rate, createSeededRng(1))).toThrow(/rate must be a number in \[0,1\]/);
    }
  });
});

describe("breed", () => {
  const pool: ScoredGenome[] = [
    { genome: genome("g1", ZEROS), fitness: 0.2 },
    { genome: genome("g2", ONES), fitness: 0.8 },
    { genome: genome("g3", DEFAULT_TRAITS), fitness: 0.5 },
  ];

  it("gives bit-identical offspring sequences for the same seed", () => {
    const sequence = (seed: number) => {
      const rng = createSeededRng(seed);
      return Array.from({ length: 50 }, () => breed(pool, 0.3, rng));
    };
    const a = sequence(42);
    const b = sequence(42);
    expect(a).toEqual(b);
    for (let i = 0; i < a.length; i++) {
      for (const n of TRAIT_NAMES) expect(Object.is(a[i]!.traits[n], b[i]!.traits[n])).toBe(true);
    }
    expect(sequence(43)).not.toEqual(a);
  });

  it("names its parents, once each", () => {
    const rng = createSeededRng(5);
    for (let i = 0; i < 50; i++) {
      const child = breed(pool, 0.1, rng);
      expect(child.parentIds.length).toBeGreaterThanOrEqual(1);
      expect(new Set(child.parentIds).size).toBe(child.parentIds.length);
      for (const id of child.parentIds) expect(["g1", "g2", "g3"]).toContain(id);
    }
  });

  it("validates the mutation rate before drawing", () => {
    expect(() => breed(pool, 2, createSeededRng(1))).toThrow(/rate/);
  });
});
