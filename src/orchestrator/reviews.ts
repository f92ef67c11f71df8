import { AppError, badInput, ErrorCode } from "../domain/errors.js";
import type { Review, ReviewDecision, ReviewDecisionPatch } from "../domain/review.js";
import { isTerminal, type Run } from "../domain/run.js";
import type { Clock } from "../ports/clock.js";
import type { ReviewStore } from "../ports/reviews.js";
import type { RunQueue } from "../ports/run-queue.js";
import type { RunSlots } from "../ports/run-slots.js";
import type { Page, PageRequest, Store } from "../ports/stores.js";
// A revision may be as long as a query.
import { MAX_QUERY_LENGTH } from "./defaults.js";

/** Reviews the timeout sweep decides per pass. */
export const REVIEW_SWEEP_BATCH = 100;

export interface SubmitReviewInput {
  readonly orchestrationId: string;
  readonly reviewId: string;
  readonly decision: ReviewDecision;
  readonly revision?: string | null | undefined;
  readonly comment?: string | null | undefined;
}

export interface ReviewService {
  /** The tenant's reviews waiting for a person, newest first. */
  pending(tenantId: string, page: PageRequest): Promise<Page<Review>>;
  /** A review of the tenant, or null. */
  get(tenantId: string, reviewId: string): Promise<Review | null>;
  /**
   * Records a person's decision (once: a second is REVIEW_ALREADY_DECIDED) and continues the run.
   * Another tenant's review or run is NOT_FOUND; a REVISE without text is BAD_USER_INPUT; a review
   * of a run that ended meanwhile (cancelled) is CONFLICT.
   */
  submit(tenantId: string, keyId: string | null, input: SubmitReviewInput): Promise<Review>;
  /** Applies onTimeout to every review past its deadline (once across instances); returns how many. */
  sweep(): Promise<number>;
  /** Continues a parked run if a decision is waiting to be applied (a decision that came while it parked). */
  continueIfDecided(run: Run): Promise<void>;
}

export interface ReviewServiceDeps {
  readonly store: Store;
  readonly reviews: ReviewStore;
  readonly queue: RunQueue;
  readonly slots: RunSlots;
  readonly clock: Clock;
  readonly maxConcurrentRunsPerTenant?: number;
}

const notFound = (what: string, id: string) => new AppError(ErrorCode.NotFound, `No ${what} with id ${id}.`);

/**
 * Decisions on reviews and the continuation of the runs that waited for them. A decision is stored
 * first (compare-and-set on PENDING), then the run moves AWAITING_REVIEW → RUNNING (compare-and-set:
 * exactly one continuation however many decisions race) and is queued as a continuation, which
 * applies the decision where the agent waited.
 */
export const createReviewService = (deps: ReviewServiceDeps): ReviewService => {
  const { store, reviews, clock } = deps;

  const continueRun = async (run: Pick<Run, "tenantId" | "id">, reviewId: string) => {
    const moved = await store.runs.transition(run.tenantId, run.id, ["AWAITING_REVIEW"], {
      status: "RUNNING",
    });
    if (moved === null) return;
    // The continuation counts against the tenant's cap when a slot is free; a decided review is never
    // refused for lack of one (the run was admitted when it started).
    const cap = deps.maxConcurrentRunsPerTenant;
    if (cap !== undefined) await deps.slots.acquire(run.tenantId, run.id, cap);
    await deps.queue.enqueue({
      runId: run.id,
      tenantId: run.tenantId,
      enqueuedAt: clock.now().getTime(),
      resumeReason: "REVIEW_DECIDED",
      continuation: reviewId,
    });
  };

  const checkInput = (input: SubmitReviewInput) => {
    const revision = input.revision?.trim() ?? "";
    if (input.decision === "REVISE" && revision.length === 0) {
      throw badInput("A REVISE decision needs the revised text in revision.", { field: "revision" });
    }
    if (revision.length > MAX_QUERY_LENGTH) {
      throw badInput(`revision must be at most ${MAX_QUERY_LENGTH} characters; got ${revision.length}.`, {
        field: "revision",
      });
    }
    return input.decision === "REVISE" ? revision : null;
  };

  return {
    pending: (tenantId, page) => reviews.listPending(tenantId, page),
    get: (tenantId, reviewId) => reviews.get(tenantId, reviewId),

    async submit(tenantId, keyId, input) {
      const revision = checkInput(input);
      const review = await reviews.get(tenantId, input.reviewId);
      if (review === null || review.runId !== input.orchestrationId) throw notFound("review", input.reviewId);
      const run = await store.runs.get(tenantId, review.runId);
      if (run === null) throw notFound("orchestration", review.runId);
      if (isTerminal(run.status)) {
        throw new AppError(
          ErrorCode.Conflict,
          `Orchestration ${run.id} has ended (${run.status}); its reviews can no longer be decided.`,
        );
      }
      const patch: ReviewDecisionPatch = {
        state: "DECIDED",
        decision: input.decision,
        revision,
        comment: input.comment ?? null,
        keyId,
        decidedAt: clock.now(),
      };
      const decided = await reviews.decide(tenantId, review.id, patch);
      if (decided === null) {
        throw new AppError(
          ErrorCode.ReviewAlreadyDecided,
          `Review ${review.id} was decided already (${review.state}).`,
          { details: { reviewId: review.id } },
        );
      }
      await continueRun({ tenantId, id: review.runId }, review.id);
      return decided;
    },

    async sweep() {
      let applied = 0;
      for (const due of await reviews.due(clock.now(), REVIEW_SWEEP_BATCH)) {
        const run = await store.runs.get(due.tenantId, due.runId);
        const onTimeout = run?.config.review?.onTimeout ?? "FAIL";
        const decided = await reviews.decide(due.tenantId, due.id, {
          state: "TIMED_OUT",
          decision: onTimeout,
          revision: null,
          comment: null,
          keyId: null,
          decidedAt: clock.now(),
        });
        if (decided === null) continue;
        applied++;
        await continueRun({ tenantId: due.tenantId, id: due.runId }, due.id);
      }
      return applied;
    },

    async continueIfDecided(run) {
      const agents = await store.agents.listByRun(run.tenantId, run.id);
      const waiting = new Set(agents.filter((a) => a.state === "AWAITING_REVIEW").map((a) => a.id));
      const ready = (await reviews.listByRun(run.tenantId, run.id)).find(
        (r) => r.state !== "PENDING" && waiting.has(r.agentId),
      );
      if (ready) await continueRun(run, ready.id);
    },
  };
};
