import { badInput } from "../domain/errors.js";
import type { ReviewOnTimeout, ReviewPolicy, ReviewWhen } from "../domain/review.js";
import type { ConsensusProtocol, EvolutionMode, RunConfig } from "../domain/run.js";
import {
  DEFAULT_AGENTS_PER_LEVEL,
  DEFAULT_CONSENSUS,
  DEFAULT_EVOLUTION,
  DEFAULT_MAX_DEBATE_ROUNDS,
  DEFAULT_MAX_DEPTH,
  DEFAULT_REVIEW_ON_TIMEOUT,
  DEFAULT_REVIEW_TIMEOUT_SECONDS,
  MAX_AGENTS_PER_LEVEL,
  MAX_DEBATE_ROUNDS,
  MAX_DEPTH,
  MAX_QUERY_LENGTH,
  MAX_REVIEW_TIMEOUT_SECONDS,
  MIN_BUDGET_TOKENS,
  MIN_REVIEW_TIMEOUT_SECONDS,
} from "./defaults.js";

/** What a caller may ask for; absent fields take the defaults. */
export interface StartRunInput {
  readonly query: string;
  readonly maxDepth?: number | null | undefined;
  readonly agentsPerLevel?: number | null | undefined;
  readonly maxDebateRounds?: number | null | undefined;
  readonly consensus?: ConsensusProtocol | null | undefined;
  readonly evolution?: EvolutionMode | null | undefined;
  readonly seed?: number | null | undefined;
  /** The run's token budget; absent or without maxTotalTokens: none. */
  readonly budget?: { readonly maxTotalTokens?: number | null | undefined } | null | undefined;
  /** When answers wait for a person; absent means NEVER. */
  readonly review?:
    | {
        readonly when?: ReviewWhen | null | undefined;
        readonly timeoutSeconds?: number | null | undefined;
        readonly onTimeout?: ReviewOnTimeout | null | undefined;
      }
    | null
    | undefined;
}

/** The run's review policy; NEVER (the default) is not stored, so such runs look as before. */
const resolveReview = (input: StartRunInput["review"]): { review?: ReviewPolicy } => {
  const when = input?.when ?? "NEVER";
  if (when === "NEVER") return {};
  return {
    review: {
      when,
      timeoutSeconds: intInRange(
        "review.timeoutSeconds",
        input?.timeoutSeconds,
        DEFAULT_REVIEW_TIMEOUT_SECONDS,
        MIN_REVIEW_TIMEOUT_SECONDS,
        MAX_REVIEW_TIMEOUT_SECONDS,
      ),
      onTimeout: input?.onTimeout ?? DEFAULT_REVIEW_ON_TIMEOUT,
    },
  };
};

const intInRange = (
  field: string,
  value: number | null | undefined,
  fallback: number,
  min: number,
  max: number,
) => {
  if (value === null || value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw badInput(`${field} must be an integer from ${min} to ${max}; got ${value}.`, { field });
  }
  return value;
};

/** Validates a start request into the query and the run's fixed configuration. */
export const resolveRunInput = (
  input: StartRunInput,
  drawSeed: () => number,
): { query: string; config: RunConfig } => {
  const query = input.query.trim();
  if (query.length === 0) throw badInput("query must not be empty.", { field: "query" });
  if (query.length > MAX_QUERY_LENGTH) {
    throw badInput(`query must be at most ${MAX_QUERY_LENGTH} characters; got ${query.length}.`, {
      field: "query",
    });
  }
  return {
    query,
    config: {
      maxDepth: intInRange("maxDepth", input.maxDepth, DEFAULT_MAX_DEPTH, 1, MAX_DEPTH),
      agentsPerLevel: intInRange(
        "agentsPerLevel",
        input.agentsPerLevel,
        DEFAULT_AGENTS_PER_LEVEL,
        1,
        MAX_AGENTS_PER_LEVEL,
      ),
      maxDebateRounds: intInRange(
        "maxDebateRounds",
        input.maxDebateRounds,
        DEFAULT_MAX_DEBATE_ROUNDS,
        1,
        MAX_DEBATE_ROUNDS,
      ),
      consensus: input.consensus ?? DEFAULT_CONSENSUS,
      evolution: input.evolution ?? DEFAULT_EVOLUTION,
      seed: input.seed ?? drawSeed(),
      ...budgetOf(input.budget),
      ...resolveReview(input.review),
    },
  };
};

/** The run's budget, validated: a positive whole number of tokens. */
const budgetOf = (budget: StartRunInput["budget"]): Pick<RunConfig, "budget"> => {
  const max = budget?.maxTotalTokens;
  if (max === null || max === undefined) return {};
  if (!Number.isSafeInteger(max) || max < MIN_BUDGET_TOKENS) {
    throw badInput(
      `budget.maxTotalTokens must be a whole number of tokens, at least ${MIN_BUDGET_TOKENS}; got ${max}.`,
      {
        field: "budget.maxTotalTokens",
      },
    );
  }
  return { budget: { maxTotalTokens: max } };
};
