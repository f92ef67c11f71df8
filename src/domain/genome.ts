/** The five traits every genome carries, in their canonical order. */
export const TRAIT_NAMES = ["exploration", "precision", "creativity", "skepticism", "verbosity"] as const;
export type TraitName = (typeof TRAIT_NAMES)[number];
export type Traits = Readonly<Record<TraitName, number>>;

export const DEFAULT_TRAIT_VALUE = 0.5;
export const DEFAULT_TRAITS: Traits = Object.freeze({
  exploration: DEFAULT_TRAIT_VALUE,
  precision: DEFAULT_TRAIT_VALUE,
  creativity: DEFAULT_TRAIT_VALUE,
  skepticism: DEFAULT_TRAIT_VALUE,
  verbosity: DEFAULT_TRAIT_VALUE,
});

export interface Genome {
  readonly id: string;
  readonly traits: Traits;
  /** Genomes this one was bred from (empty for a founder). */
  readonly parentIds: readonly string[];
  readonly generation: number;
}

export const isTraitName = (name: string): name is TraitName =>
  (TRAIT_NAMES as readonly string[]).includes(name);

export const clampUnit = (v: number): number =>
  Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : DEFAULT_TRAIT_VALUE;

export const makeTraits = (partial: Partial<Record<TraitName, number>> = {}): Traits => {
  const out = {} as Record<TraitName, number>;
  for (const name of TRAIT_NAMES) out[name] = clampUnit(partial[name] ?? DEFAULT_TRAIT_VALUE);
  return Object.freeze(out);
};

export const traitsToArray = (t: Traits): number[] => TRAIT_NAMES.map((n) => t[n]);
export const traitsFromArray = (values: readonly number[]): Traits =>
  makeTraits(Object.fromEntries(TRAIT_NAMES.map((n, i) => [n, values[i] ?? DEFAULT_TRAIT_VALUE])));

/** Sampling parameters sent with every LLM request of an agent. */
export interface LlmParams {
  readonly temperature: number;
  readonly topP: number;
  readonly presencePenalty: number;
  readonly frequencyPenalty: number;
  readonly maxTokens: number;
}

/**
 * The genome → sampling mapping (DESIGN.md §3):
 * temperature = 0.1 + 1.4·exploration, top_p = 1 − 0.5·precision, presence_penalty = creativity,
 * frequency_penalty = 0.5·skepticism, max_tokens = ⌊base × (0.5 + 1.5·verbosity)⌋.
 */
export const toLlmParams = (traits: Traits, baseMaxTokens: number): LlmParams => ({
  temperature: round4(0.1 + 1.4 * traits.exploration),
  topP: round4(1 - 0.5 * traits.precision),
  presencePenalty: round4(traits.creativity),
  frequencyPenalty: round4(0.5 * traits.skepticism),
  maxTokens: Math.max(1, Math.floor(baseMaxTokens * (0.5 + 1.5 * traits.verbosity))),
});

// Rounded so that float noise (0.1 + 1.4·0.5 = 0.7999…) never reaches the wire.
const round4 = (x: number): number => Math.round(x * 1e4) / 1e4;
