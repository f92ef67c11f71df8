import { breed, TOURNAMENT_SIZE } from "../../domain/genetics.js";
import type { Traits } from "../../domain/genome.js";
import type { Rng } from "../../domain/rng.js";
import { currentGenome, type RolePool, scoredMembers } from "./gene-pool.js";

/** What a GENETIC step produced for a role, before it gets an id. */
export interface GeneticOffspring {
  readonly traits: Traits;
  readonly parentIds: readonly string[];
  readonly generation: number;
  /** Human-readable account of the step, for the EvolutionRecord. */
  readonly reason: string;
}

const fmt = (x: number): string => x.toFixed(3);

/**
 * One GENETIC step (docs/design.md, Semantics) for a role: two tournaments (k = {@link TOURNAMENT_SIZE}) over the
 * role's scored genomes (mean fitness), single-point crossover, then mutation with `mutationRate`.
 * A pool with nothing scored yet breeds from its current genome alone (mutation then makes the change).
 * Deterministic for a given pool and `rng` state.
 */
export const geneticStep = (pool: RolePool, mutationRate: number, rng: Rng): GeneticOffspring => {
  const scored = scoredMembers(pool);
  const population = scored.length > 0 ? scored : [{ genome: currentGenome(pool), fitness: 0 }];
  const { traits, parentIds } = breed(population, mutationRate, rng, TOURNAMENT_SIZE);
  const parents = parentIds.map((id) => population.find((p) => p.genome.id === id));
  const generation = 1 + Math.max(0, ...parents.map((p) => p?.genome.generation ?? 0));
  const described = parents.map((p) => `${p?.genome.id} (mean fitness ${fmt(p?.fitness ?? 0)})`).join(" × ");
  return {
    traits,
    parentIds,
    generation,
    reason: `Tournament selection (k=${TOURNAMENT_SIZE}) over ${population.length} scored ${pool.role} genome(s) chose ${described}; single-point crossover, then mutation at rate ${mutationRate}.`,
  };
};
