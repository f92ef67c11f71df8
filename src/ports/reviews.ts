import type { Review, ReviewDecisionPatch } from "../domain/review.js";
import type { Page, PageRequest } from "./stores.js";

/**
 * Where reviews wait (docs/reviews-and-budgets.md): stored, so a run awaiting a person survives restarts and crashes.
 * Every read but `due` is scoped by tenant: another tenant's review behaves exactly like a missing one.
 */
export interface ReviewStore {
  /** Stores a new review; CONFLICT when one with this id exists. */
  create(review: Review): Promise<void>;
  get(tenantId: string, id: string): Promise<Review | null>;
  /** The review of an agent (at most one), or null. */
  forAgent(tenantId: string, agentId: string): Promise<Review | null>;
  /** The reviews of a run, oldest first. */
  listByRun(tenantId: string, runId: string): Promise<Review[]>;
  /** The tenant's PENDING reviews, newest first. */
  listPending(tenantId: string, page: PageRequest): Promise<Page<Review>>;
  /**
   * Applies a decision only while the review is PENDING (compare-and-set across instances): returns
   * the decided review, or null when it is missing or was decided already.
   */
  decide(tenantId: string, id: string, patch: ReviewDecisionPatch): Promise<Review | null>;
  /** Every tenant's PENDING reviews whose deadline is at or before `now` (for the timeout sweep). */
  due(now: Date, limit: number): Promise<Review[]>;
  close(): Promise<void>;
}
