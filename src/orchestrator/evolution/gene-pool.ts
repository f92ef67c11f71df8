import {
  type FitnessObservation,
  type GenePool,
  meanFitness,
  type PoolMember,
} from "../../domain/evolution.js";
import type { ScoredGenome } from "../../domain/genetics.js";
import type { Genome } from "../../domain/genome.js";
import { AGENT_ROLES, type AgentRole } from "../../domain/run.js";
import { founderGenome } from "../founder-genomes.js";

/**
 * One role's gene pool in a tenant, as plain immutable data: the pointer to the current genome (null
 * until the role first evolves: its founder is current) and the members, oldest first. Every function
 * here is pure, so the steps that use them are deterministic.
 */
export interface RolePool {
  readonly role: AgentRole;
  readonly pointer: GenePool | null;
  readonly members: readonly PoolMember[];
}

/** A tenant's pools for every role. */
export type TenantPools = ReadonlyMap<AgentRole, RolePool>;

/** The pools as stored, grouped by role (members keep their stored order). */
export const buildPools = (stored: {
  pools: readonly GenePool[];
  members: readonly PoolMember[];
}): TenantPools =>
  new Map(
    AGENT_ROLES.map((role) => [
      role,
      {
        role,
        pointer: stored.pools.find((p) => p.role === role) ?? null,
        members: stored.members.filter((m) => m.role === role),
      },
    ]),
  );

/** The role's pool (empty, with its founder current, when none is held). */
export const rolePool = (pools: TenantPools, role: AgentRole): RolePool =>
  pools.get(role) ?? { role, pointer: null, members: [] };

/** The genome the role's next agent runs with: the pointer's member, else the role's founder. */
export const currentGenome = (pool: RolePool): Genome => {
  const id = pool.pointer?.currentGenomeId;
  return pool.members.find((m) => m.genome.id === id)?.genome ?? founderGenome(pool.role);
};

/** The pool's members that have been scored, each with its mean fitness: the GA population. */
export const scoredMembers = (pool: RolePool): ScoredGenome[] =>
  pool.members.flatMap((m) => {
    const mean = meanFitness(m.stats);
    return mean === null ? [] : [{ genome: m.genome, fitness: mean }];
  });

/** The member with the highest mean fitness (ties: the oldest), or null when none is scored yet. */
export const bestMember = (pool: RolePool): PoolMember | null => {
  let best: PoolMember | null = null;
  let bestMean = Number.NEGATIVE_INFINITY;
  for (const m of pool.members) {
    const mean = meanFitness(m.stats);
    if (mean !== null && mean > bestMean) {
      best = m;
      bestMean = mean;
    }
  }
  return best;
};

/**
 * One agent's fitness as an observation for the genome it ran with, or null when the fitness is not
 * a number. A genome that is not a member may be added only if it is the role's current genome (a
 * founder's first score): a genome evicted while a run was using it is not brought back.
 */
export const fitnessObservation = (
  pool: RolePool,
  genome: Genome,
  fitness: number,
  now: Date,
): FitnessObservation | null =>
  Number.isFinite(fitness)
    ? { role: pool.role, genome, fitness, at: now, addIfAbsent: genome.id === currentGenome(pool).id }
    : null;

/** The pool with `member` in place of the member with its genome id, or added last. */
export const withMember = (pool: RolePool, member: PoolMember): RolePool => {
  const known = pool.members.some((m) => m.genome.id === member.genome.id);
  return {
    ...pool,
    members: known
      ? pool.members.map((m) => (m.genome.id === member.genome.id ? member : m))
      : [...pool.members, member],
  };
};

/**
 * Makes `offspring` the role's current genome and bounds the pool to `maxSize`: while it is too large,
 * the member with the lowest mean fitness (unscored first; ties: the oldest) is evicted — never the new
 * current genome and never the best-scoring one (elitism: the best genome is never lost).
 */
export const adoptOffspring = (
  pool: RolePool,
  tenantId: string,
  offspring: PoolMember,
  maxSize: number,
  now: Date,
): { pool: RolePool; evicted: string[] } => {
  const pointer: GenePool = {
    tenantId,
    role: pool.role,
    currentGenomeId: offspring.genome.id,
    evolutions: (pool.pointer?.evolutions ?? 0) + 1,
    updatedAt: now,
  };
  let members = [...pool.members.filter((m) => m.genome.id !== offspring.genome.id), offspring];
  const evicted: string[] = [];
  const keep = new Set([offspring.genome.id, bestMember({ ...pool, members })?.genome.id]);
  while (members.length > Math.max(1, maxSize)) {
    let victim = -1;
    let victimMean = Number.POSITIVE_INFINITY;
    members.forEach((m, i) => {
      if (keep.has(m.genome.id)) return;
      const mean = meanFitness(m.stats) ?? Number.NEGATIVE_INFINITY;
      if (mean < victimMean) {
        victim = i;
        victimMean = mean;
      }
    });
    if (victim < 0) break;
    evicted.push((members[victim] as PoolMember).genome.id);
    members = members.filter((_, i) => i !== victim);
  }
  return { pool: { role: pool.role, pointer, members }, evicted };
};
