/** The run-shape defaults and bounds are the API's, defined once in the domain. */
export {
  DEFAULT_AGENTS_PER_LEVEL,
  DEFAULT_CONSENSUS,
  DEFAULT_EVOLUTION,
  DEFAULT_MAX_DEBATE_ROUNDS,
  DEFAULT_MAX_DEPTH,
  MAX_AGENTS_PER_LEVEL,
  MAX_DEBATE_ROUNDS,
  MAX_DEPTH,
  MAX_QUERY_LENGTH,
} from "../domain/run-shape.js";

/** Weight of the answering agent's own vote for its claim (the seed's 0.5). */
export const AGENT_SELF_VOTE_WEIGHT = 0.5;
/**
 * Weight of a round whose shadow output could not be parsed even after one repair attempt. It
 * counts against the claim, never for it: an unverified round can only lower confidence.
 */
export const UNVERIFIED_VOTE_WEIGHT = 0.5;
/** How hard the shadow is told to push, shown in its system prompt as a percentage. */
export const SHADOW_CHALLENGE_INTENSITY = 0.7;
/** Events read from the log per batch when a subscriber replays. */
export const REPLAY_BATCH_SIZE = 500;
/** Most events of one run stored in one write (events emitted while a write is in flight wait for the next). */
export const MAX_EVENT_WRITE_BATCH = 100;

/**
 * Times a run may lose its worker (the process died mid-run) and be resumed by another; one more
 * loss ends it FAILED with WORKER_LOST, so a run that kills every worker that takes it stops.
 */
export const DEFAULT_MAX_WORKERS_LOST = 2;
/** Longest a cancelOrchestration waits for the executing worker to record the run's end. */
export const CANCEL_WAIT_MS = 5_000;
/** Smallest run budget (budget.maxTotalTokens) accepted: one token; a budget too small for any call fails at the first. */
export const MIN_BUDGET_TOKENS = 1;

/** How often each instance applies onTimeout to reviews past their deadline. */
export const REVIEW_SWEEP_INTERVAL_MS = 500;
/** How long a review waits for a person before its onTimeout applies, unless the run says otherwise (1 day). */
export const DEFAULT_REVIEW_TIMEOUT_SECONDS = 86_400;
/** Shortest review timeout a run may ask for. */
export const MIN_REVIEW_TIMEOUT_SECONDS = 1;
/** Longest review timeout a run may ask for (30 days). */
export const MAX_REVIEW_TIMEOUT_SECONDS = 2_592_000;
/** What a review nobody decided in time becomes, unless the run says otherwise. */
export const DEFAULT_REVIEW_ON_TIMEOUT = "FAIL" as const;
