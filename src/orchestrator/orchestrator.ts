import { AppError, ErrorCode } from "../domain/errors.js";
import type { RunEvent } from "../domain/events.js";
import { isTerminal, NO_TOKENS, type Run } from "../domain/run.js";
import type { AgentToken } from "../ports/event-bus.js";
import type { RateLimiter } from "../ports/rate-limiter.js";
import type { ResumeReason, RunDelivery, RunQueue } from "../ports/run-queue.js";
import type { RunSlots } from "../ports/run-slots.js";
import { activeTraceCarrier, withTraceCarrier } from "../ports/tracing.js";
import { assertResumable, createAdmission } from "./admission.js";
import { assertTenantHasTokens, type TenantQuotaPolicy } from "./budget.js";
import { CANCEL_WAIT_MS, DEFAULT_MAX_WORKERS_LOST, REVIEW_SWEEP_INTERVAL_MS } from "./defaults.js";
import { createReviewService, type ReviewService } from "./reviews.js";
import type { RunDeps } from "./run-context.js";
import { endUnexecutedRun } from "./run-end.js";
import { streamRunEvents } from "./run-events.js";
import { type BackgroundErrorHandler, createRunExecutor, HandBack } from "./run-executor.js";
import { resolveRunInput, type StartRunInput } from "./run-input.js";

export { FINAL_WRITE_RETRY_MAX_MS, FINAL_WRITE_RETRY_MS } from "./run-executor.js";

/** What a worker reports as it takes a run, for metrics. */
export interface DispatchInfo {
  /** From enqueue to the worker taking the run. */
  readonly waitedMs: number;
  /** Why the run was taken again, or null on its first start. */
  readonly resumed: ResumeReason | null;
}

export interface OrchestratorDeps extends RunDeps {
  /** Where runs wait for a worker: in this process, or BullMQ shared by every instance. */
  readonly queue: RunQueue;
  /** Where the per-tenant cap is counted (shared across instances with Redis). */
  readonly slots: RunSlots;
  /** Seed for runs started without one. */
  readonly drawSeed: () => number;
  /** Base completion budget that the verbosity trait scales. */
  readonly baseMaxTokens: number;
  /** Base completion budget on reasoning models. @default DEFAULT_REASONING_BASE_MAX_TOKENS */
  readonly reasoningBaseMaxTokens?: number;
  /** This process's identity, stored as the run's owner while it executes it. @default a fresh id */
  readonly instanceId?: string;
  /** Times a run may lose its worker and be resumed before it ends FAILED (WORKER_LOST). */
  readonly maxWorkersLost?: number;
  /** Per-tenant admission rate for new runs; absent means unlimited. */
  readonly rateLimiter?: RateLimiter;
  /** Most runs of one tenant in flight (queued or executing) at once, across the cluster. */
  readonly maxConcurrentRunsPerTenant?: number;
  /** Errors that have nowhere else to go: a hook that failed, a run that failed unexpectedly. */
  readonly onBackgroundError?: BackgroundErrorHandler;
  /** The tenants' daily token quota (VEX_TENANT_TOKENS_PER_DAY), counted across the cluster; absent: none. */
  readonly tenantQuota?: TenantQuotaPolicy;
  /** Called as this process's worker takes a run. */
  readonly onDispatch?: (info: DispatchInfo) => void;
  /** How often this process applies onTimeout to reviews past their deadline. @default REVIEW_SWEEP_INTERVAL_MS */
  readonly reviewSweepIntervalMs?: number;
}

export interface Orchestrator {
  /** Validates, admits and stores a run (PENDING), queues it for a worker and returns it. */
  start(tenantId: string, input: StartRunInput): Promise<Run>;
  /**
   * Cancels a run of this tenant wherever it is: a queued run never executes; an executing one's
   * worker aborts its LLM calls and ends it CANCELLED. A finished run is returned unchanged.
   */
  cancel(tenantId: string, runId: string): Promise<Run>;
  /**
   * Continues an INTERRUPTED run: agents that completed are reused, the others run again, and the
   * event log continues after its last seq. Returns the run (RUNNING), queued for a worker.
   */
  resume(tenantId: string, runId: string): Promise<Run>;
  /** A run's events after afterSeq, replayed then live; rejects with NOT_FOUND for another tenant's run. */
  events(tenantId: string, runId: string, afterSeq: number): Promise<AsyncGenerator<RunEvent>>;
  /** A run's live token stream; rejects with NOT_FOUND for another tenant's run. */
  tokens(tenantId: string, runId: string): Promise<AsyncIterableIterator<AgentToken>>;
  /** Human review gates: pending reviews and decisions; null when no review store is configured. */
  readonly reviews: ReviewService | null;
  /** Starts this process's worker: it takes runs from the queue (and the review timeout sweep). */
  work(): Promise<void>;
  /**
   * Queues again every run the store holds as PENDING or RUNNING (a restart of the single server:
   * they resume by themselves; with BullMQ, runs whose job is there already are left alone).
   * Returns how many were queued.
   */
  requeueUnfinished(): Promise<number>;
  /** Runs executing in this process. */
  activeRuns(): number;
  /**
   * Stops accepting and taking runs, lets runs in flight finish for up to `graceMs`, then hands the
   * rest back to the queue (they stay RUNNING; the next worker resumes them) and waits for that.
   */
  shutdown(graceMs: number): Promise<void>;
}

interface ActiveRun {
  readonly tenantId: string;
  readonly controller: AbortController;
  readonly done: Promise<unknown>;
}

/** The error of a run that lost its worker more often than allowed. */
const workerLostError = (times: number) => ({
  code: ErrorCode.WorkerLost,
  message: `The run lost its worker ${times} times (the process executing it died each time); it was given up.`,
});
const CANCELLED_ERROR = { code: ErrorCode.Cancelled, message: "Cancelled by the client." };

/**
 * The run engine: admits and stores runs and queues them (see Orchestrator); as a worker, takes runs
 * from the queue and executes them, resuming any that already started; on shutdown hands back
 * what it has not finished.
 */
export const createOrchestrator = (deps: OrchestratorDeps): Orchestrator => {
  const { store, clock, queue } = deps;
  const instanceId = deps.instanceId ?? deps.ids.next();
  const maxWorkersLost = deps.maxWorkersLost ?? DEFAULT_MAX_WORKERS_LOST;
  const active = new Map<string, ActiveRun>();
  let accepting = true;

  const execute = createRunExecutor(deps, () => accepting);
  const reviews = deps.reviews === undefined ? null : createReviewService({ ...deps, reviews: deps.reviews });
  let sweepTimer: NodeJS.Timeout | undefined;
  const sweep = () =>
    reviews?.sweep().catch((e) => deps.onBackgroundError?.(e, { runId: "", hook: "review timeout" }));
  const admit = createAdmission(deps, () => accepting);
  const release = (run: Pick<Run, "tenantId" | "id">) =>
    deps.slots.release(run.tenantId, run.id).catch((e) => deps.onBackgroundError?.(e, { runId: run.id }));

  const enqueue = async (run: Run, resumeReason?: ResumeReason) => {
    const trace = activeTraceCarrier();
    await queue.enqueue({
      runId: run.id,
      tenantId: run.tenantId,
      enqueuedAt: clock.now().getTime(),
      ...(resumeReason === undefined ? {} : { resumeReason }),
      ...(trace === undefined ? {} : { trace }),
    });
  };

  /** Ends a run no worker is executing, and gives its slot back. */
  const endHere = async (run: Run, status: "CANCELLED" | "FAILED", error: Run["error"] & {}) => {
    await endUnexecutedRun(deps, run, status, error);
    await release(run);
  };

  /** The worker's side: one delivery of a run, executed to its end or handed back. */
  const handle = async (delivery: RunDelivery) => {
    const { runId, tenantId } = delivery.job;
    const run = await store.runs.get(tenantId, runId);
    // Ended already (cancelled while queued, or a duplicate delivery): nothing to do.
    if (run === null || isTerminal(run.status)) return "done" as const;
    const startedBefore = run.status === "RUNNING";
    const resumed = startedBefore
      ? (delivery.job.resumeReason ?? delivery.redelivery ?? "WORKER_LOST")
      : null;
    deps.onDispatch?.({ waitedMs: clock.now().getTime() - delivery.job.enqueuedAt, resumed });
    if (delivery.cancelled.aborted) {
      await endHere(run, "CANCELLED", CANCELLED_ERROR);
      return "done" as const;
    }
    if (delivery.workersLost > maxWorkersLost) {
      await endHere(run, "FAILED", workerLostError(delivery.workersLost));
      return "done" as const;
    }
    const now = clock.now();
    const taken = await store.runs.transition(tenantId, runId, ["PENDING", "RUNNING"], {
      status: "RUNNING",
      ownerId: instanceId,
      heartbeatAt: now,
      startedAt: run.startedAt ?? now,
    });
    if (taken === null) return "done" as const;
    // A resumed run keeps its slot (taken again where slots did not outlive a restart; its age renewed).
    if (startedBefore && deps.maxConcurrentRunsPerTenant !== undefined) {
      await deps.slots.acquire(tenantId, runId, Number.MAX_SAFE_INTEGER);
    }
    const existing = startedBefore ? await store.agents.listByRun(tenantId, runId) : [];
    const controller = new AbortController();
    const onCancel = () => controller.abort(new AppError(ErrorCode.Cancelled, CANCELLED_ERROR.message));
    delivery.cancelled.addEventListener("abort", onCancel, { once: true });
    // Cancelled while the run was being taken (the listener would not hear it any more).
    if (delivery.cancelled.aborted) onCancel();
    const done = withTraceCarrier(delivery.job.trace, () => execute(taken, controller, existing, resumed));
    active.set(runId, { tenantId, controller, done });
    // Shutdown began while this run was being taken: it goes back unfinished with the others.
    if (!accepting) controller.abort(new HandBack());
    try {
      const outcome = await done;
      if (outcome === "parked") return await park(taken);
      if (outcome === "done") await release(run);
      return outcome;
    } finally {
      delivery.cancelled.removeEventListener("abort", onCancel);
      active.delete(runId);
    }
  };

  /**
   * A run waiting for a review gives back its slot and becomes AWAITING_REVIEW (its job then
   * completes: no worker holds it). A decision that came while it was parking continues it at once.
   */
  const park = async (run: Run) => {
    await release(run);
    const parked = await store.runs.transition(run.tenantId, run.id, ["RUNNING"], {
      status: "AWAITING_REVIEW",
      ownerId: null,
    });
    if (parked !== null) await reviews?.continueIfDecided(parked);
    return "done" as const;
  };

  const getOrThrow = async (tenantId: string, runId: string): Promise<Run> => {
    const run = await store.runs.get(tenantId, runId);
    if (run === null) throw new AppError(ErrorCode.NotFound, `No orchestration with id ${runId}.`);
    return run;
  };

  /** Resolves once the run's RunFinished is published (or after `ms`); subscribed before it returns. */
  const awaitEnd = async (runId: string, ms: number) => {
    const live = deps.bus.subscribe("runEvent", runId);
    await live.ready;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    });
    const ended = (async () => {
      for await (const e of live) if (e.type === "RunFinished") return;
    })();
    const stop = async () => {
      clearTimeout(timer);
      await live.return?.();
    };
    return {
      wait: async () => {
        await Promise.race([ended, timeout]);
        await stop();
      },
      stop,
    };
  };

  return {
    reviews,

    async start(tenantId, input) {
      const { query, config } = resolveRunInput(input, deps.drawSeed);
      if (reviews === null && (config.review?.when ?? "NEVER") !== "NEVER") {
        throw new AppError(
          ErrorCode.BadUserInput,
          "This server keeps no reviews; review.when must be NEVER.",
        );
      }
      const id = deps.ids.next();
      // A tenant with no tokens left today gets no run at all (nothing is stored).
      await assertTenantHasTokens(deps.tenantQuota, tenantId, clock);
      await admit(tenantId, id);
      const now = clock.now();
      const run: Run = {
        id,
        tenantId,
        query,
        config,
        status: "PENDING",
        response: null,
        confidence: null,
        merkleRoot: null,
        traceRoot: null,
        levelsProcessed: 0,
        leafOrder: [],
        model: deps.llm.model,
        tokensUsed: NO_TOKENS,
        error: null,
        ownerId: null,
        heartbeatAt: null,
        createdAt: now,
        startedAt: null,
        completedAt: null,
      };
      try {
        await store.runs.create(run);
        await enqueue(run);
      } catch (e) {
        await release(run);
        throw e;
      }
      return run;
    },

    async resume(tenantId, runId) {
      const current = await getOrThrow(tenantId, runId);
      assertResumable(current);
      await assertTenantHasTokens(deps.tenantQuota, tenantId, clock);
      await admit(tenantId, runId);
      const run = await store.runs.transition(tenantId, runId, ["INTERRUPTED"], {
        status: "RUNNING",
        error: null,
        completedAt: null,
      });
      if (run === null) {
        await release(current);
        throw new AppError(ErrorCode.Conflict, `Orchestration ${runId} was resumed elsewhere first.`);
      }
      await enqueue(run, "REQUESTED");
      return run;
    },

    async cancel(tenantId, runId) {
      const run = await getOrThrow(tenantId, runId);
      if (isTerminal(run.status)) return run;
      // Parked for a review: no worker holds it, so it ends here.
      if (
        run.status === "AWAITING_REVIEW" &&
        (await endUnexecutedRun(deps, run, "CANCELLED", CANCELLED_ERROR))
      ) {
        return getOrThrow(tenantId, runId);
      }
      // Listen for the end before asking for it, so that it cannot be missed.
      const end = await awaitEnd(runId, CANCEL_WAIT_MS);
      if ((await queue.cancel(runId)) === "removed") await endHere(run, "CANCELLED", CANCELLED_ERROR);
      // Ended meanwhile (before the subscription, or just now): nothing left to wait for.
      if (isTerminal((await getOrThrow(tenantId, runId)).status)) await end.stop();
      else await end.wait();
      return getOrThrow(tenantId, runId);
    },

    async events(tenantId, runId, afterSeq) {
      await getOrThrow(tenantId, runId);
      return streamRunEvents(deps, tenantId, runId, afterSeq);
    },

    async tokens(tenantId, runId) {
      await getOrThrow(tenantId, runId);
      return deps.bus.subscribe("agentToken", runId);
    },

    async work() {
      await queue.work(handle);
      if (reviews !== null) {
        // A decision stored just before a crash, whose run was not continued yet, continues now.
        for (const run of await store.runs.findByStatus(["AWAITING_REVIEW"]))
          await reviews.continueIfDecided(run);
        sweepTimer = setInterval(sweep, deps.reviewSweepIntervalMs ?? REVIEW_SWEEP_INTERVAL_MS);
        sweepTimer.unref();
      }
    },

    async requeueUnfinished() {
      const unfinished = await store.runs.findByStatus(["PENDING", "RUNNING"]);
      for (const run of unfinished) {
        await enqueue(run, run.status === "RUNNING" ? "SERVER_RESTART" : undefined);
      }
      return unfinished.length;
    },

    activeRuns: () => active.size,

    async shutdown(graceMs) {
      accepting = false;
      clearInterval(sweepTimer);
      const stopped = queue.stopWorking();
      const all = () => Promise.all([...active.values()].map((r) => r.done));
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      });
      await Promise.race([all(), graceOver]);
      clearTimeout(timer);
      for (const r of active.values()) r.controller.abort(new HandBack());
      await all();
      await stopped;
    },
  };
};
