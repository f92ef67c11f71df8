import { AppError, ErrorCode } from "../domain/errors.js";
import type { Agent, RunConfig, TokenUsage } from "../domain/run.js";
import type { Clock } from "../ports/clock.js";
import type { EventBus } from "../ports/event-bus.js";
import type { GenomeSource } from "../ports/genomes.js";
import type { IdGenerator } from "../ports/ids.js";
import type { LlmClient } from "../ports/llm.js";
import type { ReviewStore } from "../ports/reviews.js";
import type { Store } from "../ports/stores.js";
import type { Tracer } from "../ports/tracing.js";
import type { RunBudget } from "./budget.js";
import type { RunHook } from "./hooks.js";
import type { RunEventLog } from "./run-events.js";

/** The ports a run's execution uses. */
export interface RunDeps {
  readonly store: Store;
  readonly bus: EventBus;
  readonly llm: LlmClient;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly genomes: GenomeSource;
  /** Steps that plug into every run, in order (evolution, provenance). */
  readonly hooks?: readonly RunHook[];
  /** Spans for runs (invoke_workflow), agents (invoke_agent) and their LLM calls; none when absent. */
  readonly tracer?: Tracer;
  /**
   * Where reviews wait (docs/reviews-and-budgets.md); without it, runs whose review policy is not
   * NEVER are refused.
   */
  readonly reviews?: ReviewStore;
}

/** Everything one run's agents share. */
export interface RunContext {
  readonly tenantId: string;
  readonly runId: string;
  readonly query: string;
  readonly config: RunConfig;
  readonly baseMaxTokens: number;
  /** Base completion budget on reasoning models. @default DEFAULT_REASONING_BASE_MAX_TOKENS */
  readonly reasoningBaseMaxTokens?: number;
  readonly signal: AbortSignal;
  readonly log: RunEventLog;
  readonly deps: RunDeps;
  /** Agents stored before a resume, by ordinal: completed ones are reused, the rest run again. */
  readonly existing: ReadonlyMap<number, Agent>;
  /**
   * The agents completed in this attempt, by ordinal, as stored: a fresh run summarises them without
   * reading them back (a resumed one reads its agents, reused ones included, from the store).
   */
  readonly completed: Map<number, Agent>;
  /** Stops the whole run (siblings included) when one agent fails. */
  readonly abortRun: (reason: unknown) => void;
  /** Token usage of the whole run, summed as calls complete. */
  usage: TokenUsage;
  /** The run's budget and the tenant's daily quota, checked before every call; none when absent. */
  readonly budget?: RunBudget;
}

/** Throws the signal's reason when the run was cancelled or interrupted. */
export const checkAborted = (signal: AbortSignal) => {
  if (signal.aborted)
    throw signal.reason instanceof Error ? signal.reason : new AppError(ErrorCode.Cancelled, "Cancelled.");
};
