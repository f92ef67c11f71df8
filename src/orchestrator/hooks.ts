import type { Agent, AgentRole, Run } from "../domain/run.js";
import type { RunEventLog } from "./run-events.js";

/** What a hook sees once every agent of a run has succeeded and the run's summary is stored. */
export interface RunCompletion {
  /** The run with its response, confidence and roots filled in; status is still RUNNING. */
  readonly run: Run;
  /** Every agent of the run, in leaf order. */
  readonly agents: readonly Agent[];
  /** Appends an event to the run's log (EvolutionApplied, AnchorRecorded, …) before RunFinished. */
  readonly emit: RunEventLog["emit"];
  readonly signal: AbortSignal;
}

/**
 * A step that plugs into every run: evolution and provenance are hooks. Hooks run in order.
 * A hook that throws does not undo the run's result: the error is reported through
 * `onBackgroundError` and the run still succeeds.
 */
export interface RunHook {
  readonly name: string;
  /** Extra guidance for the system prompts of a tenant's agents of a role (e.g. learned rules). */
  guidance?(tenantId: string, role: AgentRole): Promise<readonly string[]>;
  /** Called after a successful run, before RunFinished. */
  afterRun?(completion: RunCompletion): Promise<void>;
}
