import { clampUnit, type Genome, makeTraits, TRAIT_NAMES, type TraitName, type Traits } from "./genome.js";
import { nextInt, nextRange } from "./random.js";
import type { Rng } from "./rng.js";

/** Tournament size used by GENETIC evolution (docs/design.md, Semantics): two candidates per tournament. */
export const TOURNAMENT_SIZE = 2;
/** A mutated trait moves by a uniform delta in [−MUTATION_SPAN, MUTATION_SPAN), then is clamped to [0,1]. */
export const MUTATION_SPAN = 0.2;
/** Probability that a crossover puts parent `b`'s genes first (so neither parent owns the head of the order). */
export const CROSSOVER_SWAP_PROBABILITY = 0.5;

/** A member of a gene pool as seen by selection. */
export interface ScoredGenome {
  readonly genome: Genome;
  readonly fitness: number;
}

/** Non-finite fitness (NaN, ±Inf) never wins a tournament: NaN would otherwise beat everything by failing `>`. */
const comparableFitness = (f: number): number => (Number.isFinite(f) ? f : Number.NEGATIVE_INFINITY);

/**
 * Tournament selection, returning the winner's index in `population`.
 *
 * Draws `k` indices uniformly **with replacement**; a later draw replaces the current winner only when its
 * fitness is **strictly greater**, so on ties the earlier draw wins. Non-finite fitness counts as −∞.
 * Consumes exactly `k` values from `rng`.
 *
 * @throws Error on an empty population or when `k` is not a positive integer.
 */
export const tournamentSelectIndex = (population: readonly ScoredGenome[], k: number, rng: Rng): number => {
  if (population.length === 0) throw new Error("tournamentSelect: the population is empty");
  if (!Number.isInteger(k) || k < 1)
    throw new Error(`tournamentSelect: k must be a positive integer, got ${k}`);
  let best = nextInt(rng, population.length);
  for (let i = 1; i < k; i++) {
    const candidate = nextInt(rng, population.length);
    if (comparableFitness(population[candidate]!.fitness) > comparableFitness(population[best]!.fitness)) {
      best = candidate;
    }
  }
  return best;
};

/** Tournament selection (see {@link tournamentSelectIndex}); returns the winning genome. */
export const tournamentSelect = (population: readonly ScoredGenome[], k: number, rng: Rng): Genome =>
  population[tournamentSelectIndex(population, k, rng)]!.genome;

/**
 * Single-point crossover over {@link TRAIT_NAMES} order (n = 5 traits).
 *
 * The cut point p is drawn uniformly from 1..n−1 (never 0 or n), so the child always takes at least one
 * trait from each parent: neither "all from a" nor "all from b" can happen (the seed drew p from 0..n−1,
 * which made "all from b" possible but "all from a" impossible). Because a fixed order would then always
 * give the first trait from the head parent and the last from the tail parent, the head parent is itself
 * drawn: with probability {@link CROSSOVER_SWAP_PROBABILITY} it is `b`. The result: every trait comes from
 * either parent with probability ½, and every child is a real mix.
 *
 * Consumes exactly two values from `rng` (cut point, then orientation).
 */
export const crossover = (a: Traits, b: Traits, rng: Rng): Traits => {
  const n = TRAIT_NAMES.length;
  const point = 1 + nextInt(rng, n - 1);
  const swap = rng.next() < CROSSOVER_SWAP_PROBABILITY;
  const [head, tail] = swap ? [b, a] : [a, b];
  const child: Partial<Record<TraitName, number>> = {};
  TRAIT_NAMES.forEach((name, i) => {
    child[name] = i < point ? head[name] : tail[name];
  });
  return makeTraits(child);
};

const assertRate = (rate: number): void => {
  if (!Number.isFinite(rate) || rate < 0 || rate > 1) {
    throw new Error(`mutate: rate must be a number in [0,1], got ${rate}`);
  }
};

/**
 * Mutation: each trait, independently and in {@link TRAIT_NAMES} order, mutates with probability `rate`
 * by a uniform delta in [−{@link MUTATION_SPAN}, {@link MUTATION_SPAN}), and the result is clamped to [0,1].
 * Rate 0 never mutates; rate 1 always does.
 *
 * @throws Error when `rate` is not a finite number in [0,1] (it is never silently clamped).
 */
export const mutate = (traits: Traits, rate: number, rng: Rng): Traits => {
  assertRate(rate);
  const out: Partial<Record<TraitName, number>> = {};
  for (const name of TRAIT_NAMES) {
    const value = traits[name];
    out[name] = rng.next() < rate ? clampUnit(value + nextRange(rng, -MUTATION_SPAN, MUTATION_SPAN)) : value;
  }
  return makeTraits(out);
};

/** An offspring before it gets an id: its traits and the ids of the genomes it was bred from. */
export interface Offspring {
  readonly traits: Traits;
  readonly parentIds: readonly string[];
}

/**
 * One GENETIC step: two tournaments of size `k` (parent a, then parent b), crossover, mutation.
 * Deterministic for a given `rng` state. `parentIds` lists a's id, then b's id when it differs.
 */
export const breed = (
  population: readonly ScoredGenome[],
  mutationRate: number,
  rng: Rng,
  k: number = TOURNAMENT_SIZE,
): Offspring => {
  assertRate(mutationRate);
  const a = tournamentSelect(population, k, rng);
  const b = tournamentSelect(population, k, rng);
  const traits = mutate(crossover(a.traits, b.traits, rng), mutationRate, rng);
  return { traits, parentIds: a.id === b.id ? [a.id] : [a.id, b.id] };
};
