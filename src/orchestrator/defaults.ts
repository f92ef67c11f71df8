import type { ConsensusProtocol, EvolutionMode } from "../domain/run.js";

/** Run shape used when the caller leaves a field out (the seed's: root + Researcher + Critic). */
export const DEFAULT_MAX_DEPTH = 2;
export const DEFAULT_AGENTS_PER_LEVEL = 2;
export const DEFAULT_MAX_DEBATE_ROUNDS = 3;
export const DEFAULT_CONSENSUS: ConsensusProtocol = "WEIGHTED_CONFIDENCE";
export const DEFAULT_EVOLUTION: EvolutionMode = "OFF";

/** Upper bounds on a run's shape: 1 + 4 + 16 + 64 agents at most, each with at most 5 debate rounds. */
export const MAX_DEPTH = 4;
export const MAX_AGENTS_PER_LEVEL = 4;
export const MAX_DEBATE_ROUNDS = 5;
/** Longest accepted query, in characters. */
export const MAX_QUERY_LENGTH = 8_000;

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
