import {
  type EvolutionRecord,
  type FitnessStats,
  meanFitness,
  NO_FITNESS,
  type OptimizationRule,
  type TenantExperiment,
} from "../../domain/evolution.js";
import type { Experiment } from "../../domain/evolution-memory.js";
import { type Genome, TRAIT_NAMES, type TraitName } from "../../domain/genome.js";
import { AGENT_ROLES, type AgentRole } from "../../domain/run.js";
import type { GenomeSource } from "../../ports/genomes.js";
import type { Page, PageRequest } from "../../ports/stores.js";
import type { RunHook } from "../hooks.js";
import { type EvolutionContext, type EvolutionDeps, resolveEvolutionSettings } from "./context.js";
import { createEvolutionHook } from "./evolution-hook.js";
import { bestMember, currentGenome, type RolePool, rolePool } from "./gene-pool.js";
import { roleSampleSize } from "./self-correcting-step.js";
import { createTenantCache } from "./tenant-cache.js";

/** A role's pool as clients see it. */
export interface GenePoolEntryView {
  readonly role: AgentRole;
  /** The genome the role's next agent runs with. */
  readonly genome: Genome;
  readonly fitness: FitnessStats & { readonly mean: number | null };
  readonly generation: number;
  /** Genomes kept in the role's pool. */
  readonly poolSize: number;
  /** Evolution steps that changed the role's genome so far. */
  readonly historySize: number;
  readonly bestGenomeId: string | null;
  readonly bestMeanFitness: number | null;
}

export interface TraitCorrelationView {
  readonly trait: TraitName;
  /** Pearson r between the trait and fitness. */
  readonly correlation: number;
  /** The role the experiments were restricted to; null for all roles. */
  readonly role: AgentRole | null;
  readonly sampleSize: number;
}

/** Tenant-scoped reads of evolution state, for the API. */
export interface EvolutionService {
  genePool(tenantId: string): Promise<GenePoolEntryView[]>;
  /** Empty below 10 experiments (of the role, when given). */
  traitCorrelations(tenantId: string, role?: AgentRole | null): Promise<TraitCorrelationView[]>;
  experiments(tenantId: string, page: PageRequest): Promise<Page<TenantExperiment>>;
  rules(tenantId: string, page: PageRequest): Promise<Page<OptimizationRule>>;
  records(tenantId: string, page: PageRequest): Promise<Page<EvolutionRecord>>;
  /** Live evolution records of the tenant; `return()` releases the subscription. */
  subscribe(tenantId: string): AsyncIterableIterator<EvolutionRecord>;
  /** The experiments the tenant's memory holds now, oldest first. */
  memorySnapshot(tenantId: string): Promise<readonly Experiment[]>;
}

/** Evolution, wired: plug `genomes` and `hook` into the orchestrator, `service` into the API. */
export interface Evolution {
  /** Each role's current genome from the tenant's gene pool (its founder before it first evolves). */
  readonly genomes: GenomeSource;
  readonly hook: RunHook;
  readonly service: EvolutionService;
  /** Drops idle tenants' in-memory state now (it also runs every `cleanupIntervalMs`); returns how many. */
  sweep(): number;
  /** Tenants whose state is held in memory. */
  cachedTenants(): number;
  /** Stops the cleanup timer. */
  stop(): void;
}

const entryOf = (pool: RolePool): GenePoolEntryView => {
  const genome = currentGenome(pool);
  const stats = pool.members.find((m) => m.genome.id === genome.id)?.stats ?? NO_FITNESS;
  const best = bestMember(pool);
  return {
    role: pool.role,
    genome,
    fitness: { ...stats, mean: meanFitness(stats) },
    generation: genome.generation,
    poolSize: pool.members.length,
    historySize: pool.pointer?.evolutions ?? 0,
    bestGenomeId: best?.genome.id ?? null,
    bestMeanFitness: best === null ? null : meanFitness(best.stats),
  };
};

/**
 * Builds evolution (docs/design.md, Semantics): per-tenant state cached in memory, rebuilt from the store
 * on first use, bounded (`maxCachedTenants`) and dropped when idle by a timer that `stop()` clears.
 * @throws AppError (INTERNAL_SERVER_ERROR) on invalid options.
 */
export const createEvolution = (deps: EvolutionDeps): Evolution => {
  const settings = resolveEvolutionSettings(deps.options);
  const cache = createTenantCache({
    store: deps.store,
    clock: deps.clock,
    memoryCapacity: settings.memoryCapacity,
    maxGuidanceRules: settings.maxGuidanceRules,
    idleMs: settings.tenantIdleMs,
    maxTenants: settings.maxCachedTenants,
  });
  const ctx: EvolutionContext = { ...deps, settings, cache };
  const timer = setInterval(() => cache.sweep(), settings.cleanupIntervalMs);
  timer.unref();

  const poolOf = async (tenantId: string, role: AgentRole): Promise<RolePool> =>
    rolePool((await cache.get(tenantId)).pools, role);

  const service: EvolutionService = {
    genePool: async (tenantId) => {
      const { pools } = await cache.get(tenantId);
      return AGENT_ROLES.map((role) => entryOf(rolePool(pools, role)));
    },
    traitCorrelations: async (tenantId, role) => {
      const { memory } = await cache.get(tenantId);
      const correlations = memory.correlations(role ? { role } : {});
      const sampleSize = role ? roleSampleSize(memory, role) : memory.size;
      return TRAIT_NAMES.flatMap((trait) => {
        const r = correlations[trait];
        return r === undefined ? [] : [{ trait, correlation: r, role: role ?? null, sampleSize }];
      });
    },
    experiments: (tenantId, page) => deps.store.experiments.list(tenantId, page),
    rules: (tenantId, page) => deps.store.rules.list(tenantId, page),
    records: (tenantId, page) => deps.store.records.list(tenantId, page),
    subscribe: (tenantId) => deps.bus.subscribe("evolution", tenantId),
    memorySnapshot: async (tenantId) => (await cache.get(tenantId)).memory.snapshot(),
  };

  return {
    genomes: { current: async (tenantId, role) => currentGenome(await poolOf(tenantId, role)) },
    hook: createEvolutionHook(ctx),
    service,
    sweep: () => cache.sweep(),
    cachedTenants: () => cache.size(),
    stop: () => clearInterval(timer),
  };
};
