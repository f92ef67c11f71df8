import type { EvolutionRecord } from "./evolution.js";
import type { Review } from "./review.js";
import type { Agent, DebateRound, RunError, RunStatus } from "./run.js";

/**
 * Why a run continued after it stopped unfinished: its worker died (WORKER_LOST), its worker shut
 * down and handed it back (WORKER_SHUTDOWN), the single server restarted (SERVER_RESTART), or a
 * client resumed an INTERRUPTED run (REQUESTED), a review it waited for was decided (REVIEW_DECIDED).
 */
export const RUN_RESUME_REASONS = [
  "WORKER_LOST",
  "WORKER_SHUTDOWN",
  "SERVER_RESTART",
  "REQUESTED",
  "REVIEW_DECIDED",
] as const;
export type RunResumeReason = (typeof RUN_RESUME_REASONS)[number];

/** Which budget refused a call: the run's own maxTotalTokens, or the tenant's quota for the UTC day. */
export const BUDGET_SCOPES = ["RUN", "TENANT_DAY"] as const;
export type BudgetScope = (typeof BUDGET_SCOPES)[number];

/** Why a call was refused: the budget, what was used of it, and what in-flight calls had reserved. */
export interface BudgetExceededDetails {
  readonly scope: BudgetScope;
  /** The budget in tokens. */
  readonly limit: number;
  /** Tokens used of it before the refused call (completed calls). */
  readonly used: number;
  /** Tokens reserved by calls in flight, the refused one included (its token limit). */
  readonly reserved: number;
}

/**
 * The single vocabulary of run events. Every event is stored in the run's log with seq 1, 2, 3 …
 * before it is published; subscribers replay from the log and continue live.
 */
export type RunEventBody =
  | { readonly type: "RunStarted"; readonly query: string }
  | {
      readonly type: "RunResumed";
      readonly reusedAgentIds: readonly string[];
      /** Why the run continued (absent in logs written before reasons were recorded). */
      readonly reason?: RunResumeReason;
    }
  /**
   * The agent is stored (RUNNING) with this event: the event names it, and readers show it as it
   * started (`agentAsStarted`), whatever it became since.
   */
  | { readonly type: "AgentStarted"; readonly agentId: string }
  | { readonly type: "DebateRoundCompleted"; readonly agentId: string; readonly round: DebateRound }
  /**
   * The agent is stored (completed, with its result and transcript) before this is emitted, and never
   * changes after: the event names it rather than carrying a second copy (readers load it by id).
   */
  | { readonly type: "AgentCompleted"; readonly agentId: string }
  | { readonly type: "AgentFailed"; readonly agent: Agent; readonly error: RunError }
  /** An agent's claim waits for a person; the run parks (AWAITING_REVIEW) once its other work settles. */
  | { readonly type: "ReviewRequested"; readonly review: Review }
  /** A review was decided (by a person, or by its timeout) and applied where the agent waited. */
  | { readonly type: "ReviewSubmitted"; readonly review: Review }
  | { readonly type: "EvolutionApplied"; readonly record: EvolutionRecord }
  /**
   * A receipt of the run's anchored checkpoint was stored before this is emitted; the event names it by
   * its backend and record hash (readers load the run's receipts).
   */
  | { readonly type: "AnchorRecorded"; readonly backend: string; readonly recordHash: string }
  /** An LLM call was not made because it could exceed a budget; the run ends FAILED (BUDGET_EXCEEDED) next. */
  | ({ readonly type: "BudgetExceeded" } & BudgetExceededDetails)
  | {
      readonly type: "RunFinished";
      readonly status: RunStatus;
      readonly response: string | null;
      readonly confidence: number | null;
      readonly merkleRoot: string | null;
      readonly traceRoot: string | null;
      readonly error: RunError | null;
    };

export type RunEventType = RunEventBody["type"];

export type RunEvent = RunEventBody & {
  readonly runId: string;
  readonly tenantId: string;
  readonly seq: number;
  readonly at: Date;
};

export const isFinalEvent = (e: RunEvent): boolean => e.type === "RunFinished";
