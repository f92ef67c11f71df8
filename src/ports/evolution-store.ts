import type {
  EvolutionRecord,
  FitnessObservation,
  GenePool,
  OptimizationRule,
  PoolMember,
  TenantExperiment,
} from "../domain/evolution.js";
import type { Page, PageRequest } from "./stores.js";

/**
 * Persistence of evolution (docs/design.md, Semantics), split by what is stored. Every method takes the
 * tenant id; records passed in must carry that same tenant id (adapters reject a mismatch with
 * INTERNAL_SERVER_ERROR), and nothing ever reads or changes another tenant's data. Failures reject
 * with AppError (STORE_UNAVAILABLE when the backend cannot be reached).
 */

/** A tenant's gene pools: one pointer per role and the genomes (members) with their fitness. */
export interface GenePoolStore {
  /** Every pointer and member of the tenant's pools (all roles), to rebuild in-memory state. */
  load(tenantId: string): Promise<{ pools: GenePool[]; members: PoolMember[] }>;
  /** Inserts a member or replaces the one with the same genome id, its fitness statistics included. */
  saveMember(tenantId: string, member: PoolMember): Promise<void>;
  /**
   * Adds fitness observations to their genomes' statistics, atomically per genome across writers:
   * when workers score one genome at once, every observation counts exactly once. Observations of one
   * genome apply in the order given. A genome that is not a member is skipped, unless its observation
   * says `addIfAbsent` (a founder's first score): then it is added. Returns the members changed, with
   * their statistics after the change (other writers' observations included).
   */
  addFitness(tenantId: string, observations: readonly FitnessObservation[]): Promise<PoolMember[]>;
  /** Removes these genomes from the tenant's pools; unknown ids are ignored. */
  removeMembers(tenantId: string, genomeIds: readonly string[]): Promise<void>;
  /** Inserts or replaces the role's pointer. */
  savePool(tenantId: string, pool: GenePool): Promise<void>;
  /**
   * Compare-and-set of the role's pointer, for workers evolving one tenant at once: stores `pool`
   * only while the stored pointer's `evolutions` is `expectedEvolutions` (no pointer stored counts
   * as 0). Returns false, changing nothing, when another writer moved it first.
   */
  swapPool(tenantId: string, pool: GenePool, expectedEvolutions: number): Promise<boolean>;
}

/** Self-correction's experiments: append-only apart from eviction and consolidation. */
export interface ExperimentStore {
  /** Appends experiments; a duplicate id is rejected with CONFLICT. */
  append(tenantId: string, experiments: readonly TenantExperiment[]): Promise<void>;
  /** The `n` oldest (by recordedAt, then id), oldest first. */
  oldest(tenantId: string, n: number): Promise<TenantExperiment[]>;
  /** Removes exactly the experiments with these ids and nothing else; returns how many were removed. */
  removeExactly(tenantId: string, ids: readonly string[]): Promise<number>;
  /** Newest first (recordedAt desc, id desc); cursors stay valid while experiments are added. */
  list(tenantId: string, page: PageRequest): Promise<Page<TenantExperiment>>;
  /** Every experiment of the tenant, oldest first: what the memory is rebuilt from. */
  listAll(tenantId: string): Promise<TenantExperiment[]>;
}

/** Rules consolidated from experiments, unique per tenant by normalised text. */
export interface RuleStore {
  /**
   * Adds the rules whose normalised text (see `normalizeRuleText`) the tenant does not have yet, in
   * order; returns the ones added. Duplicates, within the batch or with stored rules, are skipped.
   */
  add(tenantId: string, rules: readonly OptimizationRule[]): Promise<OptimizationRule[]>;
  /** Newest first (createdAt desc, id desc). */
  list(tenantId: string, page: PageRequest): Promise<Page<OptimizationRule>>;
  /** The `n` most confident rules (ties: newest first): what agents are guided by. */
  top(tenantId: string, n: number): Promise<OptimizationRule[]>;
}

/** Every genome change, for audit and for clients. */
export interface EvolutionRecordStore {
  /** Appends a record; a duplicate id is rejected with CONFLICT. */
  append(tenantId: string, record: EvolutionRecord): Promise<void>;
  /** Newest first (at desc, id desc). */
  list(tenantId: string, page: PageRequest): Promise<Page<EvolutionRecord>>;
}

/** The evolution store the app is wired with; closed by whoever opened it. */
export interface EvolutionStore {
  readonly pools: GenePoolStore;
  readonly experiments: ExperimentStore;
  readonly rules: RuleStore;
  readonly records: EvolutionRecordStore;
  close(): Promise<void>;
}
