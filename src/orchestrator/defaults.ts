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
 * How long a RUNNING run's owner lease lasts without renewal. The owner renews it every third of
 * this; recovery (at startup and on the same period) interrupts runs whose lease lapsed.
 */
export const DEFAULT_RUN_LEASE_MS = 15_000;
