import type { Experiment } from "./evolution-memory.js";
import type { Genome, TraitName, Traits } from "./genome.js";
import type { SuggestionSupport } from "./reflection.js";
import type { AgentRole } from "./run.js";

/** What produced a genome change: the genetic operators, or self-correction from experiments. */
export const EVOLUTION_KINDS = ["GENETIC", "SELF_CORRECTING"] as const;
export type EvolutionKind = (typeof EVOLUTION_KINDS)[number];

/** Fitness observed for one genome over every agent that ran with it. */
export interface FitnessStats {
  /** How many agent results were scored with this genome. */
  readonly evaluations: number;
  /** Sum of those fitness values (the mean is total / evaluations). */
  readonly total: number;
  readonly best: number | null;
  readonly last: number | null;
}

export const NO_FITNESS: FitnessStats = Object.freeze({ evaluations: 0, total: 0, best: null, last: null });

/** The stats after one more fitness observation (non-finite values are ignored). */
export const addFitness = (stats: FitnessStats, fitness: number): FitnessStats =>
  Number.isFinite(fitness)
    ? {
        evaluations: stats.evaluations + 1,
        total: stats.total + fitness,
        best: stats.best === null ? fitness : Math.max(stats.best, fitness),
        last: fitness,
      }
    : stats;

/**
 * One genome's statistics from parts kept apart (e.g. one per writer): counts and totals add up, the
 * best is the best of all, and the last is the part's whose last observation is newest (`at`; parts
 * without a time count as oldest).
 */
export const combineFitness = (parts: readonly { stats: FitnessStats; at: Date | null }[]): FitnessStats => {
  let combined = NO_FITNESS;
  let lastAt = Number.NEGATIVE_INFINITY;
  for (const { stats, at } of parts) {
    const time = at?.getTime() ?? Number.NEGATIVE_INFINITY;
    const newer = stats.last !== null && (combined.last === null || time >= lastAt);
    combined = {
      evaluations: combined.evaluations + stats.evaluations,
      total: combined.total + stats.total,
      best: stats.best === null ? combined.best : Math.max(combined.best ?? stats.best, stats.best),
      last: newer ? stats.last : combined.last,
    };
    if (newer) lastAt = time;
  }
  return combined;
};

/** Mean fitness, or null before the first evaluation. */
export const meanFitness = (stats: FitnessStats): number | null =>
  stats.evaluations === 0 ? null : stats.total / stats.evaluations;

/** One genome in a tenant's gene pool for a role, with the fitness it earned. */
export interface PoolMember {
  readonly tenantId: string;
  readonly role: AgentRole;
  readonly genome: Genome;
  readonly stats: FitnessStats;
  readonly createdAt: Date;
}

/** One agent's fitness, for the genome it ran with. */
export interface FitnessObservation {
  readonly role: AgentRole;
  readonly genome: Genome;
  readonly fitness: number;
  readonly at: Date;
  /** Add the genome to the pool when it is not a member (the role's current genome, scored first). */
  readonly addIfAbsent: boolean;
}

/** Observations grouped by genome id, genomes in first-seen order, each genome's in the order given. */
export const observationsByGenome = (
  observations: readonly FitnessObservation[],
): Map<string, FitnessObservation[]> => {
  const groups = new Map<string, FitnessObservation[]>();
  for (const o of observations) groups.set(o.genome.id, [...(groups.get(o.genome.id) ?? []), o]);
  return groups;
};

/** The statistics after a genome's observations, in order. */
export const withObservations = (stats: FitnessStats, observations: readonly FitnessObservation[]) =>
  observations.reduce((s, o) => addFitness(s, o.fitness), stats);

/** The member a genome's first observation adds when `addIfAbsent` allows it: no statistics yet. */
export const absentMember = (tenantId: string, first: FitnessObservation): PoolMember => ({
  tenantId,
  role: first.role,
  genome: first.genome,
  stats: NO_FITNESS,
  createdAt: first.at,
});

/** A tenant's pool pointer for a role: which genome the role's next agents run with. */
export interface GenePool {
  readonly tenantId: string;
  readonly role: AgentRole;
  readonly currentGenomeId: string;
  /** How many evolution steps have changed this role's genome. */
  readonly evolutions: number;
  readonly updatedAt: Date;
}

/** A trait change that self-correction applied, with the evidence behind it. */
export interface AppliedAdjustment {
  readonly trait: TraitName;
  readonly from: number;
  readonly to: number;
  readonly confidence: number;
  readonly source: "STATISTICS" | "REFLECTION";
  readonly support: SuggestionSupport;
  /** Pearson r of the trait with fitness when known. */
  readonly correlation: number | null;
}

/** One change to a role's current genome (docs/design.md, Semantics): stored, emitted and streamed. */
export interface EvolutionRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly runId: string;
  readonly kind: EvolutionKind;
  readonly role: AgentRole;
  readonly before: Traits;
  readonly after: Traits;
  /** The genomes the offspring was bred or derived from. */
  readonly parentGenomeIds: readonly string[];
  /** The new current genome of the role. */
  readonly offspringGenomeId: string;
  readonly generation: number;
  /** Why this change (and, for a fallback, why self-correction did not apply). */
  readonly reason: string;
  /** SELF_CORRECTING only: the trait changes applied. */
  readonly adjustments: readonly AppliedAdjustment[];
  readonly at: Date;
}

/** A rule consolidated from experiments by the LLM, fed back into later agents' system prompts. */
export interface OptimizationRule {
  readonly id: string;
  readonly tenantId: string;
  readonly description: string;
  readonly traits: readonly TraitName[];
  readonly confidence: number;
  /** How many experiments the consolidation that produced it looked at. */
  readonly sourceExperimentCount: number;
  readonly createdAt: Date;
}

/** An experiment as stored: the memory's experiment plus the tenant it belongs to. */
export interface TenantExperiment extends Experiment {
  readonly tenantId: string;
}

/**
 * The key rules are de-duplicated by: Unicode-normalised, lower case, whitespace collapsed, trailing
 * punctuation dropped. "High exploration helps." and "high  exploration helps" are the same rule.
 */
export const normalizeRuleText = (text: string): string =>
  text
    .normalize("NFKC")
    .toLowerCase()
    .replace(/\s+/g, " ")
    .trim()
    .replace(/[\s.!?;:,]+$/u, "");
