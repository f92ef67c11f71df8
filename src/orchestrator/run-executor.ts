import { SpanStatusCode, trace } from "@opentelemetry/api";
import { AppError, ErrorCode, isAppError } from "../domain/errors.js";
import { fromHex, merkleRootFromLeafHashes, toHex } from "../domain/merkle.js";
import {
  type Agent,
  type AgentState,
  isInProgress,
  type Run,
  type RunError,
  type RunStatus,
} from "../domain/run.js";
import { runTraceRoot } from "../domain/transcript.js";
import { summariseUsage } from "../domain/usage.js";
import type { DeliveryOutcome, ResumeReason } from "../ports/run-queue.js";
import { GEN_AI, GEN_AI_OPERATIONS, untraced, VEX_ATTRIBUTES } from "../ports/tracing.js";
import { ROOT_SPEC, runAgent } from "./agent-runner.js";
import { budgetDetailsOf, createRunBudget, type TenantQuotaPolicy } from "./budget.js";
import type { RunCompletion, RunHook } from "./hooks.js";
import { isPark } from "./review-gate.js";
import type { RunContext } from "./run-context.js";
import { createRunEventLog } from "./run-events.js";

/** First and longest wait between attempts to record a run's end while the store is unavailable. */
export const FINAL_WRITE_RETRY_MS = 500;
/** Longest wait between attempts to record a run's end (see FINAL_WRITE_RETRY_MS). */
export const FINAL_WRITE_RETRY_MAX_MS = 10_000;
/** Each further attempt to record a run's end waits this many times longer, up to the maximum. */
const FINAL_WRITE_BACKOFF_FACTOR = 2;

/** Span attribute: the status a run ended with. */
const RUN_STATUS_ATTRIBUTE = "vex.run.status";
/** Span attribute: why a run that had started is executed again (WORKER_LOST, …). */
const RUN_RESUMED_ATTRIBUTE = "vex.run.resumed";

/** Receives errors that have nowhere else to go: a hook that failed, a run that failed unexpectedly. */
export type BackgroundErrorHandler = (error: unknown, context: { runId: string; hook?: string }) => void;

/** What executing a run needs: what its agents share, plus the orchestrator's settings. */
export type RunExecutorDeps = RunContext["deps"] & {
  /** Base completion budget that the verbosity trait scales. */
  readonly baseMaxTokens: number;
  /** Base completion budget on reasoning models. @default DEFAULT_REASONING_BASE_MAX_TOKENS */
  readonly reasoningBaseMaxTokens?: number;
  readonly onBackgroundError?: BackgroundErrorHandler;
  /** The tenants' daily token quota; absent: none. */
  readonly tenantQuota?: TenantQuotaPolicy;
};

/**
 * The abort reason that stops a run without ending it: the worker is shutting down and hands the
 * run back to the queue, where another worker resumes it from its completed agents.
 */
export class HandBack extends AppError {
  constructor() {
    super(ErrorCode.Interrupted, "Handed back to the queue by a worker shutting down.");
  }
}

/**
 * Executes a run (fresh, or resumed with its stored agents: `existing`, for `resumed` reason) to a
 * final status and RunFinished. Aborting `controller` stops it; the abort reason's code (CANCELLED,
 * INTERRUPTED) becomes the run's status, except HandBack, which leaves the run RUNNING and resolves
 * `handBack`. Resolves `done` once the run's end is stored.
 */
export type ExecuteRun = (
  run: Run,
  controller: AbortController,
  existing: readonly Agent[],
  resumed: ResumeReason | null,
) => Promise<ExecutionOutcome>;

/** A delivery's outcome, or `parked`: the run waits for a review (the orchestrator parks it). */
export type ExecutionOutcome = DeliveryOutcome | "parked";

/** Whether an error (or what it wraps) says only that a store was unavailable: worth retrying. */
const isTransient = (e: unknown): boolean => {
  if (isAppError(e) && e.code === ErrorCode.StoreUnavailable) return true;
  if (e instanceof AggregateError) return e.errors.length > 0 && e.errors.every(isTransient);
  return e instanceof Error && e.cause !== undefined && isTransient(e.cause);
};

/** Waits `ms`, or less when `signal` aborts. */
const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });

/** The state an unfinished agent takes when its run ends with a status. */
export const AGENT_STATE_OF_RUN_END: Record<Exclude<RunStatus, "SUCCEEDED">, AgentState> = {
  PENDING: "FAILED",
  RUNNING: "FAILED",
  FAILED: "FAILED",
  CANCELLED: "CANCELLED",
  INTERRUPTED: "INTERRUPTED",
  AWAITING_REVIEW: "FAILED",
};

const nextDelay = (delay: number) => Math.min(delay * FINAL_WRITE_BACKOFF_FACTOR, FINAL_WRITE_RETRY_MAX_MS);

const STATUS_OF_ABORT: Partial<Record<string, RunStatus>> = {
  [ErrorCode.Cancelled]: "CANCELLED",
  [ErrorCode.Interrupted]: "INTERRUPTED",
};

/**
 * Builds the function that executes one run. `deps` is handed on to the run's agents as it is.
 * `isAccepting` reports whether the orchestrator still accepts runs: while it does, recording a
 * run's end is retried for as long as the store answers STORE_UNAVAILABLE.
 */
export const createRunExecutor = (deps: RunExecutorDeps, isAccepting: () => boolean): ExecuteRun => {
  const { store, clock } = deps;

  /**
   * One hook, part of the run's success (issue 17): a retryable hook (the ledger and anchors) is tried
   * again with backoff while its store is unavailable; a hook that still fails fails the run with the
   * hook's code, so no client takes an unrecorded run for a provable one.
   */
  const runHook = async (hook: RunHook, completion: RunCompletion) => {
    const { signal } = completion;
    for (let delay = FINAL_WRITE_RETRY_MS; ; delay = nextDelay(delay)) {
      try {
        return await hook.afterRun?.(completion);
      } catch (e) {
        if (signal.aborted) throw signal.reason;
        if (hook.retryable && isTransient(e) && isAccepting()) {
          await pause(delay, signal);
          if (signal.aborted) throw signal.reason;
          continue;
        }
        deps.onBackgroundError?.(e, { runId: completion.run.id, hook: hook.name });
        throw new AppError(
          hook.failureCode ?? ErrorCode.Internal,
          `The run's ${hook.name} step failed: ${e instanceof Error ? e.message : String(e)}`,
          { cause: e },
        );
      }
    }
  };

  const runHooks = async (completion: RunCompletion) => {
    for (const hook of deps.hooks ?? []) if (hook.afterRun) await runHook(hook, completion);
  };

  /** Agents still marked in progress (their own failure could not be stored) take the run's end state. */
  const settleAgents = async (run: Run, status: Exclude<RunStatus, "SUCCEEDED">) => {
    const state = AGENT_STATE_OF_RUN_END[status];
    for (const agent of await store.agents.listByRun(run.tenantId, run.id)) {
      if (!isInProgress(agent.state)) continue;
      await store.agents.update(run.tenantId, agent.id, { state, completedAt: clock.now() });
    }
  };

  /**
   * Records a run's end even if the store is briefly unavailable: retries with backoff while the
   * store answers STORE_UNAVAILABLE and this process is not shutting down (then the queue delivers
   * the run again, here or to another worker, which records it instead).
   */
  const untilStored = async (write: () => Promise<void>) => {
    for (let delay = FINAL_WRITE_RETRY_MS; ; delay = nextDelay(delay)) {
      try {
        return await write();
      } catch (e) {
        if (!(e instanceof AppError && e.code === ErrorCode.StoreUnavailable) || !isAccepting()) throw e;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  };

  const traced: ExecuteRun = (run, controller, existing, resumed) =>
    (deps.tracer ?? untraced).startActiveSpan(
      GEN_AI_OPERATIONS.workflow,
      {
        attributes: {
          [GEN_AI.operation]: GEN_AI_OPERATIONS.workflow,
          [GEN_AI.conversationId]: run.id,
          [VEX_ATTRIBUTES.runId]: run.id,
          ...(resumed === null ? {} : { [RUN_RESUMED_ATTRIBUTE]: resumed }),
        },
      },
      async (span) => {
        try {
          return await execute(run, controller, existing, resumed);
        } finally {
          span.end();
        }
      },
    );

  const execute: ExecuteRun = async (run, controller, existing, resumed) => {
    const lastSeq = resumed === null ? 0 : await store.events.lastSeq(run.tenantId, run.id);
    const log = createRunEventLog({
      store,
      bus: deps.bus,
      clock,
      tenantId: run.tenantId,
      runId: run.id,
      lastSeq,
    });
    /** The outcome, once the events stored so far are published (so a worker hands back nothing unsent). */
    const settled = async <O>(outcome: O): Promise<O> => {
      await log.published().catch((e: unknown) => deps.onBackgroundError?.(e, { runId: run.id }));
      return outcome;
    };
    const ctx: RunContext = {
      tenantId: run.tenantId,
      runId: run.id,
      query: run.query,
      config: run.config,
      baseMaxTokens: deps.baseMaxTokens,
      ...(deps.reasoningBaseMaxTokens === undefined
        ? {}
        : { reasoningBaseMaxTokens: deps.reasoningBaseMaxTokens }),
      signal: controller.signal,
      log,
      deps,
      existing: new Map(existing.map((a) => [a.ordinal, a])),
      completed: new Map(),
      abortRun: (reason) => {
        if (!controller.signal.aborted) controller.abort(reason);
      },
      usage: run.tokensUsed,
      budget: createRunBudget({
        tenantId: run.tenantId,
        clock,
        runLimit: run.config.budget?.maxTotalTokens,
        tenant: deps.tenantQuota,
        used: () => ctx.usage.totalTokens,
      }),
    };
    let status: RunStatus;
    let patch: Partial<Run>;
    // The run's agents once it succeeded; a run that did not reads them back for its bill.
    let agents: readonly Agent[] | null = null;
    // The result fields once every agent completed: stored with RunFinished, whatever the hooks do.
    let summary: Partial<Run> = {};
    try {
      // A run whose worker was lost before it logged anything starts afresh.
      if (resumed === null || lastSeq === 0) await log.emit({ type: "RunStarted", query: run.query });
      else {
        const reusedAgentIds = existing.filter((a) => a.state === "COMPLETED").map((a) => a.id);
        await log.emit({ type: "RunResumed", reusedAgentIds, reason: resumed });
      }
      const root = await runAgent(ctx, ROOT_SPEC);
      // A fresh run's tree completed entirely through runAgent. A resumed one reused agents completed
      // before, whose descendants runAgent never visits again: only the store has them all.
      agents =
        resumed === null
          ? [...ctx.completed.values()].sort((a, b) => a.ordinal - b.ordinal)
          : await store.agents.listByRun(run.tenantId, run.id);
      summary = summarise(root, agents);
      patch = { ...summary, tokensUsed: ctx.usage };
      await runHooks({ run: { ...run, ...patch }, agents, emit: log.emit, signal: controller.signal });
      status = "SUCCEEDED";
    } catch (e) {
      const reason = controller.signal.aborted ? controller.signal.reason : e;
      // Stopped unfinished on purpose: the run stays RUNNING for the worker that takes it next.
      if (reason instanceof HandBack) return settled("handBack");
      // Waiting for a person: the run stays unfinished, its usage so far kept.
      if (isPark(reason)) {
        await store.runs.update(run.tenantId, run.id, { tokensUsed: ctx.usage });
        return settled("parked");
      }
      if (!(reason instanceof AppError)) deps.onBackgroundError?.(reason, { runId: run.id });
      const error = toRunError(reason);
      status = STATUS_OF_ABORT[error.code] ?? "FAILED";
      patch = { ...summary, error, tokensUsed: ctx.usage };
      const budget = budgetDetailsOf(reason);
      if (budget !== null) await log.emit({ type: "BudgetExceeded", ...budget });
    }
    const final = patch;
    await untilStored(async () => {
      if (status !== "SUCCEEDED") await settleAgents(run, status);
      // The bill of whatever ran, failed runs included, so that reads need not load the agents.
      const usage = summariseUsage(agents ?? (await store.agents.listByRun(run.tenantId, run.id)));
      await log.emit(
        {
          type: "RunFinished",
          status,
          response: final.response ?? null,
          confidence: final.confidence ?? null,
          merkleRoot: final.merkleRoot ?? null,
          traceRoot: final.traceRoot ?? null,
          error: final.error ?? null,
        },
        [
          {
            kind: "updateRun",
            tenantId: run.tenantId,
            id: run.id,
            patch: { ...final, usage, status, completedAt: clock.now() },
          },
        ],
      );
    });
    const span = trace.getActiveSpan();
    span?.setAttribute(RUN_STATUS_ATTRIBUTE, status);
    if (status === "FAILED") span?.setStatus({ code: SpanStatusCode.ERROR });
    return settled("done");
  };
  return traced;
};

/** The run's result fields from its completed agents. */
const summarise = (root: Agent, agents: readonly Agent[]): Partial<Run> => {
  const completed = agents.filter((a) => a.result !== null).sort((a, b) => a.ordinal - b.ordinal);
  const leafHashes = completed.map((a) => fromHex((a.result as NonNullable<Agent["result"]>).contextHash));
  const confidences = completed.map((a) => a.result?.confidence ?? 0);
  return {
    response: root.result?.response ?? null,
    confidence: confidences.reduce((s, c) => s + c, 0) / Math.max(1, confidences.length),
    merkleRoot: toHex(merkleRootFromLeafHashes(leafHashes)),
    traceRoot: runTraceRoot(completed.map((a) => a.result?.traceRoot ?? "")),
    levelsProcessed: Math.max(0, ...completed.map((a) => a.depth + 1)),
    leafOrder: completed.map((a) => a.id),
  };
};

const toRunError = (e: unknown): RunError =>
  e instanceof AppError
    ? { code: e.code, message: e.message }
    : { code: ErrorCode.Internal, message: "The run failed unexpectedly." };
