import type { AppliedAdjustment } from "../../domain/evolution.js";
import { type EvolutionMemory, MIN_EXPERIMENTS_FOR_CORRELATION } from "../../domain/evolution-memory.js";
import type { Traits } from "../../domain/genome.js";
import {
  APPLY_CONFIDENCE_THRESHOLD,
  applyAdjustments,
  type MergedSuggestion,
  mergeSuggestions,
  type ReflectionAdjustment,
} from "../../domain/reflection.js";
import type { AgentRole } from "../../domain/run.js";

export interface SelfCorrectionInput {
  readonly memory: EvolutionMemory;
  readonly role: AgentRole;
  /** The role's current traits, which suggestions apply to. */
  readonly traits: Traits;
  /** Validated LLM reflection adjustments (empty when there was no reflection). */
  readonly reflection: readonly ReflectionAdjustment[];
  /** @default APPLY_CONFIDENCE_THRESHOLD (0.5) */
  readonly threshold?: number;
}

/** Either the changed traits with what was applied, or why nothing was. */
export type SelfCorrection =
  | {
      readonly applied: true;
      readonly traits: Traits;
      readonly adjustments: readonly AppliedAdjustment[];
      readonly reason: string;
    }
  | { readonly applied: false; readonly reason: string };

const f2 = (x: number): string => x.toFixed(2);

const describe = (s: MergedSuggestion): string =>
  `${s.trait} ${f2(s.current)} → ${f2(s.suggested)} (${s.source.toLowerCase()}, ${s.support.toLowerCase()}${
    s.correlation === null ? "" : `, r ${f2(s.correlation)}`
  }, confidence ${f2(s.confidence)})`;

/** Experiments of the role in memory: the sample its statistics come from. */
export const roleSampleSize = (memory: EvolutionMemory, role: AgentRole): number => memory.count({ role });

/**
 * One SELF_CORRECTING step (docs/design.md, Semantics) for a role: statistical suggestions from the role's own
 * experiments (|r| > 0.3 → ±0.1) merged with the LLM reflection (at most 3, one per trait), and every
 * merged suggestion whose confidence reaches the threshold applied. Pure and deterministic.
 * Statistics are per role: roles differ systematically, and mixing them would correlate a trait with
 * whichever role happened to carry it.
 */
export const selfCorrectingStep = (input: SelfCorrectionInput): SelfCorrection => {
  const { memory, role, traits } = input;
  const threshold = input.threshold ?? APPLY_CONFIDENCE_THRESHOLD;
  const n = roleSampleSize(memory, role);
  if (n < MIN_EXPERIMENTS_FOR_CORRELATION) {
    return {
      applied: false,
      reason: `only ${n} ${role} experiment(s); correlations need ${MIN_EXPERIMENTS_FOR_CORRELATION}`,
    };
  }
  const correlations = memory.correlations({ role });
  const merged = mergeSuggestions({
    traits,
    statistical: memory.suggestAdjustments(traits, { role }),
    reflection: input.reflection,
    correlations,
  });
  if (merged.length === 0) {
    return { applied: false, reason: `no trait suggestion from ${n} ${role} experiments` };
  }
  const result = applyAdjustments(traits, merged, threshold);
  if (result.applied.length === 0) {
    return {
      applied: false,
      reason: `no suggestion reached confidence ${threshold}: ${merged.map(describe).join("; ")}`,
    };
  }
  const adjustments = result.applied.map(
    (s): AppliedAdjustment => ({
      trait: s.trait,
      from: traits[s.trait],
      to: result.traits[s.trait],
      confidence: s.confidence,
      source: s.source,
      support: s.support,
      correlation: s.correlation,
    }),
  );
  const skipped =
    result.skipped.length > 0 ? `; not applied: ${result.skipped.map(describe).join("; ")}` : "";
  return {
    applied: true,
    traits: result.traits,
    adjustments,
    reason: `Self-correction from ${n} ${role} experiments: ${result.applied.map(describe).join("; ")}${skipped}.`,
  };
};
