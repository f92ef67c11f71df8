import { UnreachableCaseError } from "./errors.js";
import type { ConsensusProtocol, DebateVerdict, Vote } from "./run.js";

export interface ConsensusOutcome {
  /** Whether the protocol reached a decision at all. */
  readonly reached: boolean;
  readonly verdict: DebateVerdict;
  /** Weighted share of agreement, clamped to [0,1]. Direction-aware: rejections pull it down. */
  readonly confidence: number;
}

/** Super-majority threshold: at least two thirds of the votes uphold (or at most one third reject). */
export const SUPER_MAJORITY_SHARE = 2 / 3;

const clampUnit = (x: number) => Math.min(1, Math.max(0, x));

/**
 * Evaluates the votes of a debate under a protocol.
 *
 * Confidence is the weight-share of agreement: Σw(agree) / Σw(all). Three rejections at 0.9
 * against the agent's own 0.5 give 0.5 / 3.2 ≈ 0.16, not the mean of the weights.
 */
export const evaluateConsensus = (votes: readonly Vote[], protocol: ConsensusProtocol): ConsensusOutcome => {
  const valid = votes.filter((v) => Number.isFinite(v.weight) && v.weight > 0);
  const totalWeight = valid.reduce((s, v) => s + v.weight, 0);
  if (valid.length === 0 || totalWeight <= 0) return { reached: false, verdict: "UNDECIDED", confidence: 0 };
  const agreeWeight = valid.filter((v) => v.agrees).reduce((s, v) => s + v.weight, 0);
  const confidence = clampUnit(agreeWeight / totalWeight);
  const countShare = valid.filter((v) => v.agrees).length / valid.length;

  const decide = (upheld: boolean, rejected: boolean): ConsensusOutcome =>
    upheld
      ? { reached: true, verdict: "UPHELD", confidence }
      : rejected
        ? { reached: true, verdict: "REJECTED", confidence }
        : { reached: false, verdict: "UNDECIDED", confidence };

  switch (protocol) {
    case "MAJORITY":
      return decide(countShare > 0.5, countShare < 0.5);
    case "SUPER_MAJORITY":
      return decide(countShare >= SUPER_MAJORITY_SHARE, countShare <= 1 - SUPER_MAJORITY_SHARE);
    case "UNANIMOUS":
      return decide(countShare === 1, countShare === 0);
    case "WEIGHTED_CONFIDENCE":
      return decide(confidence > 0.5, confidence < 0.5);
    default:
      throw new UnreachableCaseError(protocol);
  }
};
