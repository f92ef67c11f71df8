import type { Agent, AgentResult } from "./run.js";
import type { TranscriptEntry } from "./transcript.js";

/**
 * Whether the debate changed the agent's answer: its final claim (a revision it kept) differs from
 * the claim the first round challenged, i.e. its first answer. Derived from what every result
 * stores, so it holds for results recorded before it was reported.
 */
export const answerChanged = (result: AgentResult): boolean => {
  const first = result.debate.rounds[0];
  return first !== undefined && first.claim !== result.response;
};

/** How many of these agents' answers the debate changed (completed agents only). */
export const debateChangedAnswers = (agents: readonly Agent[]): number =>
  agents.filter((a) => a.result !== null && answerChanged(a.result)).length;

/**
 * The distinct `provider:model` pairs an agent's calls went to, in first-use order; an entry
 * recorded before providers were (or by the offline provider, which has none) gives its model alone.
 */
export const modelsCalled = (transcript: readonly TranscriptEntry[]): string[] => [
  ...new Set(
    transcript.map((e) =>
      e.response.provider === undefined ? e.response.model : `${e.response.provider}:${e.response.model}`,
    ),
  ),
];
