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

/**
 * Which request parameters a model takes (docs/design.md, Semantics). `classic`: temperature, top_p,
 * presence/frequency penalties and a token limit (local servers, most open models). `reasoning`:
 * reasoning_effort, verbosity and a completion-token limit that reasoning tokens count against; no
 * sampling parameters (OpenAI's o-series and gpt-5 families refuse them).
 */
export const MODEL_PROFILES = ["classic", "reasoning"] as const;
export type ModelProfile = (typeof MODEL_PROFILES)[number];

/** Levels of reasoning_effort and verbosity the genome picks from (every reasoning model takes these three). */
export const EFFORT_LEVELS = ["low", "medium", "high"] as const;
export type EffortLevel = (typeof EFFORT_LEVELS)[number];

/**
 * Base completion budget of a classic model: max_tokens = ⌊base × (0.5 + 1.5·verbosity)⌋.
 * @default 512
 */
export const DEFAULT_BASE_MAX_TOKENS = 512;
/**
 * Base completion budget of a reasoning model, larger because hidden reasoning tokens count against
 * max_completion_tokens: the limit is ⌊base × (0.5 + 1.5·verbosity)⌋.
 * @default 4_096
 */
export const DEFAULT_REASONING_BASE_MAX_TOKENS = 4_096;

/**
 * The parameters an LLM request carries. Only `maxTokens` is always present; a field left out is not
 * sent. A classic model gets the four sampling fields, a reasoning model `reasoningEffort` and
 * `verbosity`; a parameter the model refused at run time is left out from then on.
 */
export interface LlmParams {
  readonly temperature?: number;
  readonly topP?: number;
  readonly presencePenalty?: number;
  readonly frequencyPenalty?: number;
  /** The completion budget (sent as max_tokens or max_completion_tokens, per provider). */
  readonly maxTokens: number;
  readonly reasoningEffort?: EffortLevel;
  readonly verbosity?: EffortLevel;
}

/** The full classic parameter set. */
export interface ClassicLlmParams extends LlmParams {
  readonly temperature: number;
  readonly topP: number;
  readonly presencePenalty: number;
  readonly frequencyPenalty: number;
}

/** The full reasoning parameter set. */
export interface ReasoningLlmParams extends LlmParams {
  readonly reasoningEffort: EffortLevel;
  readonly verbosity: EffortLevel;
}

/** Every LlmParams field; the order in which they are listed and documented. */
export const LLM_PARAM_NAMES = [
  "temperature",
  "topP",
  "presencePenalty",
  "frequencyPenalty",
  "maxTokens",
  "reasoningEffort",
  "verbosity",
] as const satisfies readonly (keyof LlmParams)[];
export type LlmParamName = (typeof LLM_PARAM_NAMES)[number];

/** The fields each profile sends. */
export const PROFILE_PARAMS: Readonly<Record<ModelProfile, readonly LlmParamName[]>> = {
  classic: ["temperature", "topP", "presencePenalty", "frequencyPenalty", "maxTokens"],
  reasoning: ["reasoningEffort", "verbosity", "maxTokens"],
};

/** Which request fields express each trait; a trait none of whose fields is sent is stated in the prompt. */
export const TRAIT_PARAMS: Readonly<Record<TraitName, readonly LlmParamName[]>> = {
  exploration: ["temperature"],
  precision: ["topP", "reasoningEffort"],
  creativity: ["presencePenalty"],
  skepticism: ["frequencyPenalty"],
  verbosity: ["maxTokens", "verbosity"],
};

/**
 * The classic genome → sampling mapping (docs/design.md, Semantics):
 * temperature = 0.1 + 1.4·exploration, top_p = 1 − 0.5·precision, presence_penalty = creativity,
 * frequency_penalty = 0.5·skepticism, max_tokens = ⌊base × (0.5 + 1.5·verbosity)⌋.
 */
export const toLlmParams = (traits: Traits, baseMaxTokens: number): ClassicLlmParams => ({
  temperature: round4(0.1 + 1.4 * traits.exploration),
  topP: round4(1 - 0.5 * traits.precision),
  presencePenalty: round4(traits.creativity),
  frequencyPenalty: round4(0.5 * traits.skepticism),
  maxTokens: tokenBudget(traits, baseMaxTokens),
});

/**
 * The reasoning mapping: reasoning_effort from precision (a precise agent thinks longer), verbosity
 * from verbosity (each in thirds: < ⅓ low, < ⅔ medium, else high), max_completion_tokens =
 * ⌊reasoningBase × (0.5 + 1.5·verbosity)⌋. Exploration, creativity and skepticism have no parameter
 * here; the orchestrator states them in the system prompt (unexpressedTraits).
 */
export const toReasoningParams = (traits: Traits, reasoningBaseMaxTokens: number): ReasoningLlmParams => ({
  maxTokens: tokenBudget(traits, reasoningBaseMaxTokens),
  reasoningEffort: level(traits.precision),
  verbosity: level(traits.verbosity),
});

/** Completion budgets per profile. */
export interface TokenBases {
  readonly classic: number;
  readonly reasoning: number;
}

/** The parameters a genome sets on a model of `profile`. */
export const paramsForProfile = (profile: ModelProfile, traits: Traits, bases: TokenBases): LlmParams =>
  profile === "reasoning" ? toReasoningParams(traits, bases.reasoning) : toLlmParams(traits, bases.classic);

/** `params` without the fields `profile` does not send. */
export const restrictToProfile = (params: LlmParams, profile: ModelProfile): LlmParams => {
  const allowed = PROFILE_PARAMS[profile];
  const out: Record<string, unknown> = {};
  for (const name of LLM_PARAM_NAMES) {
    if (allowed.includes(name) && params[name] !== undefined) out[name] = params[name];
  }
  return out as unknown as LlmParams;
};

/** Traits that none of `params`' fields expresses, in canonical order. */
export const unexpressedTraits = (params: LlmParams): TraitName[] =>
  TRAIT_NAMES.filter((t) => TRAIT_PARAMS[t].every((name) => params[name] === undefined));

const tokenBudget = (traits: Traits, base: number): number =>
  Math.max(1, Math.floor(base * (0.5 + 1.5 * traits.verbosity)));

/** Upper bounds of the low and medium thirds of a trait's range. */
const LEVEL_BOUNDS = [1 / 3, 2 / 3] as const;
const level = (v: number): EffortLevel =>
  v < LEVEL_BOUNDS[0] ? "low" : v < LEVEL_BOUNDS[1] ? "medium" : "high";

// Rounded so that float noise (0.1 + 1.4·0.5 = 0.7999…) never reaches the wire.
const round4 = (x: number): number => Math.round(x * 1e4) / 1e4;
