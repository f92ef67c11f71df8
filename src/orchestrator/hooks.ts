import type { ErrorCode } from "../domain/errors.js";
import type { Agent, AgentRole, Run } from "../domain/run.js";
import type { RunEventLog } from "./run-events.js";

/**
 * What a hook sees once every agent of a run has succeeded. The run's summary is stored with its
 * RunFinished, after the hooks (a run resumed before then computes it again from its agents).
 */
export interface RunCompletion {
  /** The run with its response, confidence and roots filled in; status is still RUNNING (as stored). */
  readonly run: Run;
  /** Every agent of the run, in leaf order. */
  readonly agents: readonly Agent[];
  /** Appends an event to the run's log (EvolutionApplied, AnchorRecorded, …) before RunFinished. */
  readonly emit: RunEventLog["emit"];
  readonly signal: AbortSignal;
}

/**
 * A step that plugs into every run: evolution and provenance are hooks. Hooks run in order and are
 * part of the run's success: a hook that throws (after its retries) ends the run FAILED with the
 * hook's `failureCode`, its agents' results kept; the error is also reported through
 * `onBackgroundError`.
 */
export interface RunHook {
  readonly name: string;
  /** The run's error code when this hook fails. @default INTERNAL_SERVER_ERROR */
  readonly failureCode?: ErrorCode;
  /**
   * Whether the hook may be called again for the same run after it failed because a store was
   * unavailable (it must then be idempotent): it is retried with backoff until the store answers.
   */
  readonly retryable?: boolean;
  /** Extra guidance for the system prompts of a tenant's agents of a role (e.g. learned rules). */
  guidance?(tenantId: string, role: AgentRole): Promise<readonly string[]>;
  /** Called after a successful run, before RunFinished. */
  afterRun?(completion: RunCompletion): Promise<void>;
}
