import { AppError, ErrorCode } from "../../domain/errors.js";
import { DEFAULT_MEMORY_CAPACITY } from "../../domain/evolution-memory.js";
import { APPLY_CONFIDENCE_THRESHOLD } from "../../domain/reflection.js";
import type { Clock } from "../../ports/clock.js";
import type { EventBus } from "../../ports/event-bus.js";
import type { EvolutionStore } from "../../ports/evolution-store.js";
import type { IdGenerator } from "../../ports/ids.js";
import type { LlmClient } from "../../ports/llm.js";
import {
  DEFAULT_CLEANUP_INTERVAL_MS,
  DEFAULT_CONSOLIDATION_BATCH,
  DEFAULT_CONSOLIDATION_RETRY_RUNS,
  DEFAULT_CONSOLIDATION_TRIGGER,
  DEFAULT_MAX_CACHED_TENANTS,
  DEFAULT_MAX_GUIDANCE_RULES,
  DEFAULT_MAX_POOL_SIZE,
  DEFAULT_MUTATION_RATE,
  DEFAULT_TENANT_IDLE_MS,
} from "./defaults.js";
import type { TenantCache } from "./tenant-cache.js";

/** Tuning of evolution; every field is optional and documented with its default. */
export interface EvolutionOptions {
  /** Per-trait mutation probability of GENETIC offspring, in [0,1]. @default DEFAULT_MUTATION_RATE (0.5) */
  readonly mutationRate?: number;
  /** Genomes kept per tenant and role. @default DEFAULT_MAX_POOL_SIZE (32) */
  readonly maxPoolSize?: number;
  /** Experiments a tenant's memory keeps. @default DEFAULT_MEMORY_CAPACITY (500) */
  readonly memoryCapacity?: number;
  /** Memory size that triggers consolidation. @default DEFAULT_CONSOLIDATION_TRIGGER (70) */
  readonly consolidationTrigger?: number;
  /** Oldest experiments consolidated (and removed on success) at once. @default DEFAULT_CONSOLIDATION_BATCH (50) */
  readonly consolidationBatch?: number;
  /** Runs to wait after a failed consolidation. @default DEFAULT_CONSOLIDATION_RETRY_RUNS (5) */
  readonly consolidationRetryRuns?: number;
  /** Learned rules shown to agents. @default DEFAULT_MAX_GUIDANCE_RULES (5) */
  readonly maxGuidanceRules?: number;
  /** Confidence a self-correction suggestion needs to be applied. @default APPLY_CONFIDENCE_THRESHOLD (0.5) */
  readonly applyThreshold?: number;
  /** How often idle tenant state is dropped. @default DEFAULT_CLEANUP_INTERVAL_MS (60 s) */
  readonly cleanupIntervalMs?: number;
  /** Idle time before a tenant's state may be dropped. @default DEFAULT_TENANT_IDLE_MS (30 min) */
  readonly tenantIdleMs?: number;
  /** Most tenants held in memory. @default DEFAULT_MAX_CACHED_TENANTS (1000) */
  readonly maxCachedTenants?: number;
}

export type EvolutionSettings = Required<EvolutionOptions>;

/** What evolution is built from; `createEvolution` wires it. */
export interface EvolutionDeps {
  readonly store: EvolutionStore;
  readonly llm: LlmClient;
  readonly bus: EventBus;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly options?: EvolutionOptions;
  /** Told about problems that do not fail the run (a consolidation that could not be parsed). */
  readonly onWarning?: (message: string, details: Record<string, unknown>) => void;
}

/** Everything the evolution steps share. */
export interface EvolutionContext extends EvolutionDeps {
  readonly settings: EvolutionSettings;
  readonly cache: TenantCache;
}

const positiveInt = (name: string, v: number) => {
  if (!Number.isInteger(v) || v < 1) {
    throw new AppError(ErrorCode.Internal, `Evolution option ${name} must be a positive integer; got ${v}.`);
  }
  return v;
};
const unit = (name: string, v: number) => {
  if (!Number.isFinite(v) || v < 0 || v > 1) {
    throw new AppError(ErrorCode.Internal, `Evolution option ${name} must be in [0,1]; got ${v}.`);
  }
  return v;
};

/** The options with defaults filled in; throws AppError (INTERNAL_SERVER_ERROR) on an invalid value. */
export const resolveEvolutionSettings = (o: EvolutionOptions = {}): EvolutionSettings => {
  const s: EvolutionSettings = {
    mutationRate: unit("mutationRate", o.mutationRate ?? DEFAULT_MUTATION_RATE),
    maxPoolSize: positiveInt("maxPoolSize", o.maxPoolSize ?? DEFAULT_MAX_POOL_SIZE),
    memoryCapacity: positiveInt("memoryCapacity", o.memoryCapacity ?? DEFAULT_MEMORY_CAPACITY),
    consolidationTrigger: positiveInt(
      "consolidationTrigger",
      o.consolidationTrigger ?? DEFAULT_CONSOLIDATION_TRIGGER,
    ),
    consolidationBatch: positiveInt(
      "consolidationBatch",
      o.consolidationBatch ?? DEFAULT_CONSOLIDATION_BATCH,
    ),
    consolidationRetryRuns: positiveInt(
      "consolidationRetryRuns",
      o.consolidationRetryRuns ?? DEFAULT_CONSOLIDATION_RETRY_RUNS,
    ),
    maxGuidanceRules: positiveInt("maxGuidanceRules", o.maxGuidanceRules ?? DEFAULT_MAX_GUIDANCE_RULES),
    applyThreshold: unit("applyThreshold", o.applyThreshold ?? APPLY_CONFIDENCE_THRESHOLD),
    cleanupIntervalMs: positiveInt("cleanupIntervalMs", o.cleanupIntervalMs ?? DEFAULT_CLEANUP_INTERVAL_MS),
    tenantIdleMs: positiveInt("tenantIdleMs", o.tenantIdleMs ?? DEFAULT_TENANT_IDLE_MS),
    maxCachedTenants: positiveInt("maxCachedTenants", o.maxCachedTenants ?? DEFAULT_MAX_CACHED_TENANTS),
  };
  if (s.consolidationBatch > s.consolidationTrigger) {
    throw new AppError(
      ErrorCode.Internal,
      "Evolution option consolidationBatch must not exceed consolidationTrigger.",
    );
  }
  return s;
};
