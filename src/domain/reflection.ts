import type { TraitCorrelations, TraitSuggestion } from "./evolution-memory.js";
import { clampUnit, isTraitName, makeTraits, type TraitName, type Traits } from "./genome.js";

/** At most this many suggestions survive a merge, and an LLM reflection may propose at most this many. */
export const MAX_ADJUSTMENTS = 3;
/** An LLM-proposed delta must satisfy |delta| ≤ this. */
export const MAX_REFLECTION_DELTA = 0.2;
/** Stored reasoning is cut to this many characters. */
export const MAX_REASONING_LENGTH = 500;
/**
 * The weight of one LLM reflection's opinion on its own. It looked at a single task and answer, so it is
 * weak evidence: on its own it never reaches {@link APPLY_CONFIDENCE_THRESHOLD}.
 */
export const REFLECTION_PRIOR_CONFIDENCE = 0.3;
/**
 * A merged suggestion is applied when its confidence is ≥ this. Reachable by design (the seed's 0.3 was not:
 * its reflection confidence was ≤ 0.15). It is met by
 * - a statistical suggestion alone when |r| ≥ 0.5 (a "large" effect), or
 * - a statistical suggestion (|r| > 0.3) that the LLM reflection agrees with: 1 − 0.7·(1 − |r|) > 0.51, or
 * - an LLM suggestion the statistics agree with, |r| ≥ 2/7 ≈ 0.29 (the same noisy-OR).
 * An LLM opinion alone (0.3), an unconfirmed moderate correlation (0.3 < |r| < 0.5) and anything contested
 * by the other source with comparable strength are offered but not applied.
 */
export const APPLY_CONFIDENCE_THRESHOLD = 0.5;

/** A validated LLM reflection adjustment: a known trait and a bounded delta. */
export interface ReflectionAdjustment {
  readonly trait: TraitName;
  readonly delta: number;
  readonly reasoning?: string;
}

/** How the other source relates to a merged suggestion's direction. */
export type SuggestionSupport = "AGREED" | "CONTESTED" | "UNCORROBORATED";

export interface MergedSuggestion {
  readonly trait: TraitName;
  readonly current: number;
  /** clamp(current + delta, 0, 1). */
  readonly suggested: number;
  /** suggested − current (never 0: no-op suggestions are dropped). */
  readonly delta: number;
  /** In [0,1]; see {@link mergeSuggestions}. */
  readonly confidence: number;
  /** Who proposed this value. */
  readonly source: "STATISTICS" | "REFLECTION";
  readonly support: SuggestionSupport;
  /** Pearson r for this trait when known, else null. */
  readonly correlation: number | null;
  /** The LLM's reasoning for this trait, when it gave one. */
  readonly reasoning: string | null;
}

export interface MergeInput {
  /** The genome's current traits, which the suggestions apply to. */
  readonly traits: Traits;
  /** From {@link EvolutionMemory.suggestAdjustments}. */
  readonly statistical: readonly TraitSuggestion[];
  /** Already validated (see {@link validateReflectionAdjustments}). */
  readonly reflection: readonly ReflectionAdjustment[];
  /**
   * r per trait (from {@link EvolutionMemory.correlations}); lets the statistics corroborate or contest an LLM
   * suggestion on a trait whose correlation was too weak for a statistical suggestion. Optional.
   */
  readonly correlations?: TraitCorrelations;
}

export interface ApplyResult {
  readonly traits: Traits;
  /** Applied, in order. */
  readonly applied: readonly MergedSuggestion[];
  /** Below the threshold (or a repeated trait). */
  readonly skipped: readonly MergedSuggestion[];
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Validates LLM reflection adjustments (the structure after JSON parsing). Accepts an array of
 * `{trait, delta, reasoning?}` or an object `{adjustments: [...]}`; other fields are ignored.
 * Rules: at most {@link MAX_ADJUSTMENTS} items; each trait a known trait name, appearing once; each delta a
 * finite number with |delta| ≤ {@link MAX_REFLECTION_DELTA}; reasoning, if present, a string (or null).
 *
 * @throws Error listing every problem found.
 */
export const validateReflectionAdjustments = (raw: unknown): ReflectionAdjustment[] => {
  const list = isRecord(raw) && "adjustments" in raw ? raw.adjustments : raw;
  if (!Array.isArray(list)) {
    throw new Error("Invalid reflection adjustments: expected an array of {trait, delta}");
  }
  const problems: string[] = [];
  if (list.length > MAX_ADJUSTMENTS)
    problems.push(`at most ${MAX_ADJUSTMENTS} adjustments, got ${list.length}`);
  const seen = new Set<string>();
  const out: ReflectionAdjustment[] = [];
  list.forEach((item: unknown, i) => {
    if (!isRecord(item)) {
      problems.push(`[${i}]: expected an object {trait, delta}`);
      return;
    }
    const { trait, delta, reasoning } = item;
    const before = problems.length;
    if (typeof trait !== "string") problems.push(`[${i}].trait: expected a string`);
    else if (!isTraitName(trait)) problems.push(`[${i}].trait: unknown trait ${JSON.stringify(trait)}`);
    else if (seen.has(trait)) problems.push(`[${i}].trait: ${trait} appears more than once`);
    if (typeof delta !== "number" || !Number.isFinite(delta))
      problems.push(`[${i}].delta: expected a finite number`);
    else if (Math.abs(delta) > MAX_REFLECTION_DELTA) {
      problems.push(`[${i}].delta: |${delta}| exceeds ${MAX_REFLECTION_DELTA}`);
    }
    if (reasoning !== undefined && reasoning !== null && typeof reasoning !== "string") {
      problems.push(`[${i}].reasoning: expected a string`);
    }
    if (problems.length > before) return;
    seen.add(trait as string);
    const text = typeof reasoning === "string" ? reasoning.trim().slice(0, MAX_REASONING_LENGTH) : "";
    out.push(
      Object.freeze({
        trait: trait as TraitName,
        delta: delta as number,
        ...(text.length > 0 ? { reasoning: text } : {}),
      }),
    );
  });
  if (problems.length > 0) throw new Error(`Invalid reflection adjustments: ${problems.join("; ")}`);
  return out;
};

/** Noisy-OR of two independent pieces of evidence pointing the same way. */
const agree = (a: number, b: number): number => 1 - (1 - a) * (1 - b);
/** The proposer's confidence, discounted by the strength of evidence pointing the other way. */
const contest = (proposer: number, opposing: number): number => proposer * (1 - opposing);

const byConfidenceDesc = (a: MergedSuggestion, b: MergedSuggestion) => b.confidence - a.confidence;

/**
 * Merges statistical suggestions with validated LLM reflection adjustments into at most
 * {@link MAX_ADJUSTMENTS} suggestions, one per trait, statistical ones first.
 *
 * Confidence (all in [0,1]):
 * - A statistical suggestion starts at |r|. If the reflection moves the same trait the same way, it becomes
 *   the noisy-OR 1 − (1 − |r|)(1 − {@link REFLECTION_PRIOR_CONFIDENCE}) ("AGREED"); the opposite way,
 *   |r|·(1 − prior) ("CONTESTED"). The statistical value (±0.1) is kept: statistics win the de-duplication.
 * - A reflection suggestion on another trait starts at the prior. If that trait's r (from `correlations`)
 *   points the same way it becomes 1 − (1 − prior)(1 − |r|) ("AGREED"); the other way, prior·(1 − |r|)
 *   ("CONTESTED"); no r (or r = 0) leaves the prior ("UNCORROBORATED").
 *
 * Ordering: statistical suggestions (by confidence, descending; ties keep input order), then reflection-only
 * ones (same rule); the first {@link MAX_ADJUSTMENTS} are kept. Suggestions that would not change the trait
 * (delta 0, or already at the bound) are dropped before the cut. Values are recomputed from `traits`.
 */
export const mergeSuggestions = (input: MergeInput): MergedSuggestion[] => {
  const { traits, statistical, reflection, correlations = {} } = input;
  const llmByTrait = new Map<TraitName, ReflectionAdjustment>();
  for (const adj of reflection) if (!llmByTrait.has(adj.trait)) llmByTrait.set(adj.trait, adj);

  const seen = new Set<TraitName>();
  const stats: MergedSuggestion[] = [];
  for (const s of statistical) {
    if (seen.has(s.trait)) continue;
    const current = traits[s.trait];
    const suggested = clampUnit(current + (s.suggested - s.current));
    if (suggested === current) continue;
    seen.add(s.trait);
    const strength = Math.abs(s.correlation);
    const llm = llmByTrait.get(s.trait);
    const direction = Math.sign(suggested - current);
    const support: SuggestionSupport =
      llm === undefined || llm.delta === 0
        ? "UNCORROBORATED"
        : Math.sign(llm.delta) === direction
          ? "AGREED"
          : "CONTESTED";
    const confidence =
      support === "AGREED"
        ? agree(strength, REFLECTION_PRIOR_CONFIDENCE)
        : support === "CONTESTED"
          ? contest(strength, REFLECTION_PRIOR_CONFIDENCE)
          : strength;
    stats.push(
      Object.freeze({
        trait: s.trait,
        current,
        suggested,
        delta: suggested - current,
        confidence,
        source: "STATISTICS",
        support,
        correlation: s.correlation,
        reasoning: llm?.reasoning ?? null,
      }),
    );
  }

  const llmOnly: MergedSuggestion[] = [];
  for (const adj of llmByTrait.values()) {
    if (seen.has(adj.trait)) continue;
    const current = traits[adj.trait];
    const suggested = clampUnit(current + adj.delta);
    if (suggested === current) continue;
    seen.add(adj.trait);
    const r = correlations[adj.trait];
    const known = r !== undefined && Number.isFinite(r) && r !== 0;
    const support: SuggestionSupport = !known
      ? "UNCORROBORATED"
      : Math.sign(r) === Math.sign(adj.delta)
        ? "AGREED"
        : "CONTESTED";
    const strength = known ? Math.abs(r) : 0;
    const confidence =
      support === "AGREED"
        ? agree(REFLECTION_PRIOR_CONFIDENCE, strength)
        : support === "CONTESTED"
          ? contest(REFLECTION_PRIOR_CONFIDENCE, strength)
          : REFLECTION_PRIOR_CONFIDENCE;
    llmOnly.push(
      Object.freeze({
        trait: adj.trait,
        current,
        suggested,
        delta: suggested - current,
        confidence,
        source: "REFLECTION",
        support,
        correlation: r !== undefined && Number.isFinite(r) ? r : null,
        reasoning: adj.reasoning ?? null,
      }),
    );
  }

  // Array.prototype.sort is stable, so equal confidences keep their input order.
  return [...stats.sort(byConfidenceDesc), ...llmOnly.sort(byConfidenceDesc)].slice(0, MAX_ADJUSTMENTS);
};

/**
 * Applies every suggestion whose confidence is ≥ `threshold` (default {@link APPLY_CONFIDENCE_THRESHOLD}),
 * at most one per trait (the first), as clamp(traits[trait] + delta, 0, 1).
 *
 * @throws Error when `threshold` is not a number in [0,1].
 */
export const applyAdjustments = (
  traits: Traits,
  merged: readonly MergedSuggestion[],
  threshold: number = APPLY_CONFIDENCE_THRESHOLD,
): ApplyResult => {
  if (!Number.isFinite(threshold) || threshold < 0 || threshold > 1) {
    throw new Error(`applyAdjustments: threshold must be a number in [0,1], got ${threshold}`);
  }
  const next: Record<TraitName, number> = { ...traits };
  const touched = new Set<TraitName>();
  const applied: MergedSuggestion[] = [];
  const skipped: MergedSuggestion[] = [];
  for (const s of merged) {
    if (touched.has(s.trait) || !(s.confidence >= threshold)) {
      skipped.push(s);
      continue;
    }
    touched.add(s.trait);
    next[s.trait] = clampUnit(traits[s.trait] + s.delta);
    applied.push(s);
  }
  return { traits: makeTraits(next), applied, skipped };
};
