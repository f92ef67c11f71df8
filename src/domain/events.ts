import type { AnchorReceipt } from "./anchor.js";
import type { EvolutionRecord } from "./evolution.js";
import type { Agent, AgentResult, DebateRound, RunError, RunStatus } from "./run.js";

/**
 * The single vocabulary of run events. Every event is stored in the run's log with seq 1, 2, 3 …
 * before it is published; subscribers replay from the log and continue live.
 */
export type RunEventBody =
  | { readonly type: "RunStarted"; readonly query: string }
  | { readonly type: "RunResumed"; readonly reusedAgentIds: readonly string[] }
  | { readonly type: "AgentStarted"; readonly agent: Agent }
  | { readonly type: "DebateRoundCompleted"; readonly agentId: string; readonly round: DebateRound }
  | { readonly type: "AgentCompleted"; readonly agent: Agent; readonly result: AgentResult }
  | { readonly type: "AgentFailed"; readonly agent: Agent; readonly error: RunError }
  | { readonly type: "EvolutionApplied"; readonly record: EvolutionRecord }
  | { readonly type: "AnchorRecorded"; readonly receipt: AnchorReceipt }
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
