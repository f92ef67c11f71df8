import type { ConsensusProtocol, EvolutionMode } from "./run.js";

/**
 * The shape of a run as the API accepts it: the defaults a caller gets for a field left out and the
 * bounds the server enforces. Part of the API's contract, so they live in the domain, where the server
 * (src/orchestrator/run-input.ts) and every client (the web view's form, through client/) read them.
 */

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
