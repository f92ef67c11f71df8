import type { AgentResult, AgentRole, Debate, Vote } from "./run.js";

/** When a run's answers wait for a person (docs/reviews-and-budgets.md). */
export const REVIEW_WHEN = ["NEVER", "UNVERIFIED", "FINAL", "ALWAYS"] as const;
export type ReviewWhen = (typeof REVIEW_WHEN)[number];

/** What a review that nobody decided in time becomes. */
export const REVIEW_ON_TIMEOUT = ["APPROVE", "REJECT", "FAIL"] as const;
export type ReviewOnTimeout = (typeof REVIEW_ON_TIMEOUT)[number];

/** A person's decision on a claim. */
export const REVIEW_DECISIONS = ["APPROVE", "REJECT", "REVISE"] as const;
export type ReviewDecision = (typeof REVIEW_DECISIONS)[number];

/** PENDING until decided by a person (DECIDED) or by its timeout (TIMED_OUT). */
export const REVIEW_STATES = ["PENDING", "DECIDED", "TIMED_OUT"] as const;
export type ReviewState = (typeof REVIEW_STATES)[number];

/** A run's review policy, fixed when it starts. */
export interface ReviewPolicy {
  readonly when: ReviewWhen;
  readonly timeoutSeconds: number;
  readonly onTimeout: ReviewOnTimeout;
}

/** One agent's claim waiting for (or decided by) a person. */
export interface Review {
  readonly id: string;
  readonly tenantId: string;
  readonly runId: string;
  readonly agentId: string;
  readonly role: AgentRole;
  /** The claim as the agent's debate left it. */
  readonly claim: string;
  readonly debate: Debate;
  readonly state: ReviewState;
  /** The decision applied: a person's, or the policy's onTimeout (FAIL ends the run). */
  readonly decision: ReviewDecision | "FAIL" | null;
  readonly revision: string | null;
  readonly comment: string | null;
  /** The API key that decided (null for the development default or a timeout). */
  readonly keyId: string | null;
  readonly createdAt: Date;
  /** When onTimeout applies. */
  readonly deadline: Date;
  readonly decidedAt: Date | null;
}

/** The fields a decision sets on a PENDING review. */
export type ReviewDecisionPatch = Pick<
  Review,
  "state" | "decision" | "revision" | "comment" | "keyId" | "decidedAt"
>;

/** Whether the agent's claim waits for a person under the policy. */
export const needsReview = (
  policy: ReviewPolicy | undefined,
  role: AgentRole,
  verified: boolean,
): boolean => {
  const when = policy?.when ?? "NEVER";
  if (when === "NEVER") return false;
  const unverified = !verified;
  const final = role === "ROOT";
  if (when === "UNVERIFIED") return unverified;
  if (when === "FINAL") return final;
  return unverified || final;
};

/** The HUMAN vote a decided review adds to the agent's debate. */
export interface HumanVote extends Vote {
  readonly voter: "HUMAN";
  readonly decision: ReviewDecision;
  readonly keyId: string | null;
  readonly comment: string | null;
  /** True when the decision was the policy's onTimeout, not a person's. */
  readonly timedOut: boolean;
}

/** Weight of a person's vote: it decides the claim on its own. */
export const HUMAN_VOTE_WEIGHT = 1;

/**
 * The agent's result after a person's decision: the HUMAN vote joins the debate (so it is part of the
 * agent's leaf); APPROVE upholds the claim, REVISE replaces it with the revision (upheld), REJECT
 * keeps the claim but marks it rejected (verified false, confidence 0); the parent's prompt says so.
 */
export const applyDecision = (
  result: Pick<AgentResult, "response" | "confidence" | "verified" | "debate">,
  review: Pick<Review, "decision" | "revision" | "comment" | "keyId" | "state">,
): Pick<AgentResult, "response" | "confidence" | "verified" | "debate"> => {
  const decision = review.decision;
  if (decision === null || decision === "FAIL") throw new Error("The review has no decision to apply.");
  const agrees = decision !== "REJECT";
  const vote: HumanVote = {
    voter: "HUMAN",
    agrees,
    weight: HUMAN_VOTE_WEIGHT,
    decision,
    keyId: review.keyId,
    comment: review.comment,
    timedOut: review.state === "TIMED_OUT",
  };
  const debate: Debate = {
    ...result.debate,
    votes: [...result.debate.votes, vote],
    consensusReached: true,
    verdict: agrees ? "UPHELD" : "REJECTED",
  };
  return {
    response: decision === "REVISE" ? (review.revision ?? result.response) : result.response,
    confidence: agrees ? result.confidence : 0,
    verified: agrees,
    debate,
  };
};
