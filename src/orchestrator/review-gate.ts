import { AppError, ErrorCode } from "../domain/errors.js";
import { agentLeafHash } from "../domain/leaf.js";
import { toHex } from "../domain/merkle.js";
import { applyDecision, needsReview, type Review } from "../domain/review.js";
import type { Agent, AgentResult } from "../domain/run.js";
import type { ReviewStore } from "../ports/reviews.js";
import type { RunContext } from "./run-context.js";

const MS_PER_SECOND = 1_000;

/**
 * Thrown by an agent whose claim waits for a person: not a failure. Its siblings finish, its
 * ancestors stop without failing, and the run parks (AWAITING_REVIEW) holding no worker.
 */
export class ParkForReview extends Error {
  override readonly name = "ParkForReview";
  constructor() {
    super("The run waits for a review.");
  }
}

export const isPark = (e: unknown): e is ParkForReview => e instanceof ParkForReview;

/** The result and the policy under which the agent's claim waits for a person; null when it does not. */
const reviewAsked = (ctx: RunContext, agent: Agent) => {
  const { result } = agent;
  const policy = ctx.config.review;
  return result !== null && policy !== undefined && needsReview(policy, agent.role, result.verified)
    ? { result, policy }
    : null;
};

/** Whether requestReviewIfNeeded will ask a person to review the agent's debated claim. */
export const asksForReview = (ctx: RunContext, agent: Agent): boolean => reviewAsked(ctx, agent) !== null;

const reviewsOf = (ctx: RunContext): ReviewStore => {
  const reviews = ctx.deps.reviews;
  if (reviews === undefined) throw new AppError(ErrorCode.Internal, "Reviews are not configured.");
  return reviews;
};

/** The result with its leaf hash recomputed over the (possibly revised) claim and debate. */
const withLeafHash = (ctx: RunContext, agent: Agent, result: AgentResult): AgentResult => ({
  ...result,
  contextHash: toHex(
    agentLeafHash({
      runId: ctx.runId,
      agentId: agent.id,
      role: agent.role,
      depth: agent.depth,
      response: result.response,
      confidence: result.confidence,
      debate: result.debate,
      traits: agent.genome.traits,
    }),
  ),
});

/**
 * After an agent's debate: when the run's policy says its claim waits for a person, stores the agent
 * (AWAITING_REVIEW, with its debated result and transcript, so no LLM call is repeated) and a PENDING
 * review, emits ReviewRequested and throws ParkForReview. Otherwise does nothing.
 */
export const requestReviewIfNeeded = async (ctx: RunContext, agent: Agent): Promise<void> => {
  const asked = reviewAsked(ctx, agent);
  if (asked === null) return;
  const { result, policy } = asked;
  const { store, clock, ids } = ctx.deps;
  const now = clock.now();
  const review: Review = {
    id: ids.next(),
    tenantId: ctx.tenantId,
    runId: ctx.runId,
    agentId: agent.id,
    role: agent.role,
    claim: result.response,
    debate: result.debate,
    state: "PENDING",
    decision: null,
    revision: null,
    comment: null,
    keyId: null,
    createdAt: now,
    deadline: new Date(now.getTime() + policy.timeoutSeconds * MS_PER_SECOND),
    decidedAt: null,
  };
  await store.agents.update(ctx.tenantId, agent.id, {
    state: "AWAITING_REVIEW",
    result,
    transcript: agent.transcript,
    ...(agent.llmParams ? { llmParams: agent.llmParams } : {}),
  });
  await reviewsOf(ctx).create(review);
  await ctx.log.emit({ type: "ReviewRequested", review });
  throw new ParkForReview();
};

/**
 * An agent that waited for a review, as the run continues: still PENDING parks again; a FAIL timeout
 * fails it (REVIEW_TIMED_OUT); a decision joins its debate as a HUMAN vote (REVISE replaces the
 * claim), the leaf hash is recomputed, and the agent completes without any LLM call.
 */
export const completeReviewed = async (ctx: RunContext, prior: Agent): Promise<Agent> => {
  const review = await reviewsOf(ctx).forAgent(ctx.tenantId, prior.id);
  if (review === null || prior.result === null) {
    throw new AppError(ErrorCode.Internal, `Agent ${prior.id} awaits a review that is not stored.`);
  }
  if (review.state === "PENDING") throw new ParkForReview();
  await ctx.log.emit({ type: "ReviewSubmitted", review });
  if (review.decision === "FAIL") {
    throw new AppError(
      ErrorCode.ReviewTimedOut,
      `Nobody reviewed ${prior.name}'s answer within ${ctx.config.review?.timeoutSeconds} s.`,
    );
  }
  const result = withLeafHash(ctx, prior, { ...prior.result, ...applyDecision(prior.result, review) });
  const agent: Agent = {
    ...prior,
    state: "COMPLETED",
    result,
    fitness: result.confidence,
    completedAt: ctx.deps.clock.now(),
  };
  await ctx.log.emit({ type: "AgentCompleted", agentId: agent.id }, [
    {
      kind: "updateAgent",
      tenantId: ctx.tenantId,
      id: agent.id,
      patch: { state: agent.state, result, fitness: agent.fitness, completedAt: agent.completedAt },
    },
  ]);
  return agent;
};
