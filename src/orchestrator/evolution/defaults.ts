import type { LlmParams } from "../../domain/genome.js";

/**
 * Evolution's named defaults (docs/design.md, Semantics). Each is the default of an `EvolutionOptions`
 * field; the domain's own constants (tournament size, mutation span, memory capacity, correlation
 * thresholds, apply threshold) live beside the code that uses them in src/domain.
 */

/**
 * Probability that each trait of an offspring mutates. A pool starts from one founder and gains one
 * offspring per run, so mutation is its only source of new values: the seed's 0.1 left 59 % of offspring
 * (0.9⁵) identical to their parents. At 0.5 an offspring changes 2.5 traits on average; the efficacy
 * bench (bench/evolution-efficacy.ts) measured mean tail fitness 0.50 at 0.2 and 0.57 at 0.5 (OFF 0.37).
 */
export const DEFAULT_MUTATION_RATE = 0.5;
/** Most genomes a tenant's pool keeps per role; the weakest (never the best or the current) go first. */
export const DEFAULT_MAX_POOL_SIZE = 32;
/** Memory size at which the oldest experiments are consolidated into rules (the seed's 70). */
export const DEFAULT_CONSOLIDATION_TRIGGER = 70;
/** How many of the oldest experiments one consolidation summarises and, on success, removes. */
export const DEFAULT_CONSOLIDATION_BATCH = 50;
/** After a failed consolidation, this many of the tenant's runs pass before it is tried again. */
export const DEFAULT_CONSOLIDATION_RETRY_RUNS = 5;
/** Most learned rules added to an agent's system prompt (the most confident ones). */
export const DEFAULT_MAX_GUIDANCE_RULES = 5;
/** Most rules one consolidation may return. */
export const MAX_RULES_PER_CONSOLIDATION = 10;
/** Longest rule text kept, in characters. */
export const MAX_RULE_LENGTH = 200;
/** Query and response excerpts shown to the reflection LLM, in characters. */
export const REFLECTION_EXCERPT_CHARS = 300;
/** Longest reflection reasoning kept in an EvolutionRecord's reason. */
export const MAX_REASON_REASONING_CHARS = 300;

/** How often idle tenants' in-memory evolution state is dropped (it is rebuilt from the store on use). */
export const DEFAULT_CLEANUP_INTERVAL_MS = 60_000;
/** A tenant's in-memory state is dropped after this long without use. */
export const DEFAULT_TENANT_IDLE_MS = 30 * 60_000;
/** Most tenants whose state is held in memory at once; the least recently used idle ones go first. */
export const DEFAULT_MAX_CACHED_TENANTS = 1_000;

/**
 * Parameters of reflection and consolidation calls: near-deterministic and focused, since they must
 * return strict JSON. Not evolved (they are not agents). A classic model takes the sampling fields, a
 * reasoning model the effort and verbosity (the adapter sends what the model's profile takes).
 */
export const EVOLUTION_LLM_PARAMS: LlmParams = Object.freeze({
  temperature: 0.2,
  topP: 1,
  presencePenalty: 0,
  frequencyPenalty: 0,
  maxTokens: 1_024,
  reasoningEffort: "low",
  verbosity: "low",
});
