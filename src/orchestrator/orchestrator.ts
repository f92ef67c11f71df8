import { AppError, badInput, ErrorCode } from "../domain/errors.js";
import type { RunEvent } from "../domain/events.js";
import { fromHex, merkleRootFromLeafHashes, toHex } from "../domain/merkle.js";
import {
  type Agent,
  type AgentState,
  NO_TOKENS,
  type Run,
  type RunError,
  type RunStatus,
} from "../domain/run.js";
import { runTraceRoot } from "../domain/transcript.js";
import type { Clock } from "../ports/clock.js";
import type { AgentToken, EventBus } from "../ports/event-bus.js";
import type { GenomeSource } from "../ports/genomes.js";
import type { IdGenerator } from "../ports/ids.js";
import type { LlmClient } from "../ports/llm.js";
import type { RateLimiter } from "../ports/rate-limiter.js";
import type { Store } from "../ports/stores.js";
import { ROOT_SPEC, type RunContext, runAgent } from "./agent-runner.js";
import { DEFAULT_RUN_LEASE_MS } from "./defaults.js";
import type { RunCompletion, RunHook } from "./hooks.js";
import { createLeaseKeeper } from "./leases.js";
import { createRunEventLog, streamRunEvents } from "./run-events.js";
import { resolveRunInput, type StartRunInput } from "./run-input.js";

export interface OrchestratorDeps {
  readonly store: Store;
  readonly bus: EventBus;
  readonly llm: LlmClient;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly genomes: GenomeSource;
  /** Seed for runs started without one. */
  readonly drawSeed: () => number;
  /** Base completion budget that the verbosity trait scales. */
  readonly baseMaxTokens: number;
  /** This process's identity as the owner of the runs it executes. @default a fresh id */
  readonly instanceId?: string;
  /** Owner lease of a RUNNING run. @default DEFAULT_RUN_LEASE_MS */
  readonly leaseMs?: number;
  /** Per-tenant admission rate for new runs; absent means unlimited. */
  readonly rateLimiter?: RateLimiter;
  /** Most runs one tenant may have executing in this process at once. */
  readonly maxConcurrentRunsPerTenant?: number;
  /** Steps that plug into every run, in order (evolution, provenance). */
  readonly hooks?: readonly RunHook[];
  /** Errors that have nowhere else to go: a hook that failed, a run that failed unexpectedly. */
  readonly onBackgroundError?: (error: unknown, context: { runId: string; hook?: string }) => void;
}

export interface Orchestrator {
  /** Validates and stores a run, starts it in the background and returns it (RUNNING). */
  start(tenantId: string, input: StartRunInput): Promise<Run>;
  /** Cancels a run of this tenant; a finished run is returned unchanged. */
  cancel(tenantId: string, runId: string): Promise<Run>;
  /**
   * Continues an INTERRUPTED run: agents that completed are reused, the others run again, and the
   * event log continues after its last seq. Returns the run (RUNNING).
   */
  resume(tenantId: string, runId: string): Promise<Run>;
  /** A run's events after afterSeq, replayed then live; rejects with NOT_FOUND for another tenant's run. */
  events(tenantId: string, runId: string, afterSeq: number): Promise<AsyncGenerator<RunEvent>>;
  /** A run's live token stream; rejects with NOT_FOUND for another tenant's run. */
  tokens(tenantId: string, runId: string): Promise<AsyncIterableIterator<AgentToken>>;
  /** Interrupts every RUNNING run, of any instance, whose owner lease lapsed. Returns how many. */
  recover(): Promise<number>;
  /** Starts renewing this process's leases and recovering lapsed ones on a timer; shutdown stops it. */
  startMaintenance(): void;
  /** Runs executing in this process. */
  activeRuns(): number;
  /**
   * Stops accepting runs, lets in-flight runs finish for up to `graceMs`, then interrupts the rest
   * (status INTERRUPTED) and waits for them to record it.
   */
  shutdown(graceMs: number): Promise<void>;
}

interface ActiveRun {
  readonly tenantId: string;
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

/** First and longest wait between attempts to record a run's end while the store is unavailable. */
export const FINAL_WRITE_RETRY_MS = 500;
export const FINAL_WRITE_RETRY_MAX_MS = 10_000;

const IN_PROGRESS: ReadonlySet<AgentState> = new Set(["PENDING", "RUNNING", "DEBATING"]);
const AGENT_STATE_OF_RUN_END: Record<Exclude<RunStatus, "SUCCEEDED">, AgentState> = {
  PENDING: "FAILED",
  RUNNING: "FAILED",
  FAILED: "FAILED",
  CANCELLED: "CANCELLED",
  INTERRUPTED: "INTERRUPTED",
};

const abortReason = (code: typeof ErrorCode.Cancelled | typeof ErrorCode.Interrupted, message: string) =>
  new AppError(code, message);

const STATUS_OF_ABORT: Partial<Record<string, RunStatus>> = {
  [ErrorCode.Cancelled]: "CANCELLED",
  [ErrorCode.Interrupted]: "INTERRUPTED",
};

export const createOrchestrator = (deps: OrchestratorDeps): Orchestrator => {
  const { store, clock } = deps;
  const instanceId = deps.instanceId ?? deps.ids.next();
  const active = new Map<string, ActiveRun>();
  let accepting = true;
  const leases = createLeaseKeeper({
    store,
    bus: deps.bus,
    clock,
    leaseMs: deps.leaseMs ?? DEFAULT_RUN_LEASE_MS,
    isLocal: (runId) => active.has(runId),
    localRuns: () => [...active.entries()].map(([id, r]) => ({ id, tenantId: r.tenantId })),
    onError: (e, runId) => deps.onBackgroundError?.(e, { runId }),
  });

  const runHooks = async (completion: RunCompletion) => {
    for (const hook of deps.hooks ?? []) {
      if (!hook.afterRun) continue;
      try {
        await hook.afterRun(completion);
      } catch (e) {
        if (completion.signal.aborted) throw completion.signal.reason;
        deps.onBackgroundError?.(e, { runId: completion.run.id, hook: hook.name });
      }
    }
  };

  /** Executes a run (fresh, or resumed with its stored agents) to a final status and RunFinished. */
  const execute = async (
    run: Run,
    controller: AbortController,
    existing: readonly Agent[],
  ): Promise<void> => {
    const lastSeq = existing.length > 0 ? await store.events.lastSeq(run.tenantId, run.id) : 0;
    const log = createRunEventLog({
      store,
      bus: deps.bus,
      clock,
      tenantId: run.tenantId,
      runId: run.id,
      lastSeq,
    });
    const ctx: RunContext = {
      tenantId: run.tenantId,
      runId: run.id,
      query: run.query,
      config: run.config,
      baseMaxTokens: deps.baseMaxTokens,
      signal: controller.signal,
      log,
      deps,
      existing: new Map(existing.map((a) => [a.ordinal, a])),
      abortRun: (reason) => {
        if (!controller.signal.aborted) controller.abort(reason);
      },
      usage: run.tokensUsed,
    };
    let status: RunStatus;
    let patch: Partial<Run>;
    try {
      if (existing.length === 0) await log.emit({ type: "RunStarted", query: run.query });
      else {
        const reusedAgentIds = existing.filter((a) => a.state === "COMPLETED").map((a) => a.id);
        await log.emit({ type: "RunResumed", reusedAgentIds });
      }
      const root = await runAgent(ctx, ROOT_SPEC);
      const agents = await store.agents.listByRun(run.tenantId, run.id);
      patch = { ...summarise(root, agents), tokensUsed: ctx.usage };
      await store.runs.update(run.tenantId, run.id, patch);
      await runHooks({ run: { ...run, ...patch }, agents, emit: log.emit, signal: controller.signal });
      status = "SUCCEEDED";
    } catch (e) {
      const reason = controller.signal.aborted ? controller.signal.reason : e;
      if (!(reason instanceof AppError)) deps.onBackgroundError?.(reason, { runId: run.id });
      const error = toRunError(reason);
      status = STATUS_OF_ABORT[error.code] ?? "FAILED";
      patch = { error, tokensUsed: ctx.usage };
    }
    const final = patch;
    await untilStored(async () => {
      if (status !== "SUCCEEDED") await settleAgents(run, status);
      await store.runs.update(run.tenantId, run.id, {
        ...final,
        status,
        completedAt: clock.now(),
        ownerId: null,
      });
      await log.emit({
        type: "RunFinished",
        status,
        response: final.response ?? null,
        confidence: final.confidence ?? null,
        merkleRoot: final.merkleRoot ?? null,
        traceRoot: final.traceRoot ?? null,
        error: final.error ?? null,
      });
    });
  };

  /** Agents still marked in progress (their own failure could not be stored) take the run's end state. */
  const settleAgents = async (run: Run, status: Exclude<RunStatus, "SUCCEEDED">) => {
    const state = AGENT_STATE_OF_RUN_END[status];
    for (const agent of await store.agents.listByRun(run.tenantId, run.id)) {
      if (!IN_PROGRESS.has(agent.state)) continue;
      await store.agents.update(run.tenantId, agent.id, { state, completedAt: clock.now() });
    }
  };

  /**
   * Records a run's end even if the store is briefly unavailable: retries with backoff while the
   * store answers STORE_UNAVAILABLE and this process is not shutting down (then lease recovery,
   * here or on another instance, records it instead).
   */
  const untilStored = async (write: () => Promise<void>) => {
    for (let delay = FINAL_WRITE_RETRY_MS; ; delay = Math.min(delay * 2, FINAL_WRITE_RETRY_MAX_MS)) {
      try {
        return await write();
      } catch (e) {
        if (!(e instanceof AppError && e.code === ErrorCode.StoreUnavailable) || !accepting) throw e;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  };

  const launch = (run: Run, existing: readonly Agent[]) => {
    const controller = new AbortController();
    const done = execute(run, controller, existing)
      .catch((e) => deps.onBackgroundError?.(e, { runId: run.id }))
      .finally(() => active.delete(run.id));
    active.set(run.id, { tenantId: run.tenantId, controller, done });
  };

  /** Throws SHUTTING_DOWN, CONCURRENCY_LIMITED or RATE_LIMITED (with retryAfterSeconds) when a run may not start. */
  const admit = async (tenantId: string) => {
    if (!accepting) {
      throw new AppError(ErrorCode.ShuttingDown, "The server is shutting down; start the run elsewhere.");
    }
    const cap = deps.maxConcurrentRunsPerTenant;
    if (cap !== undefined && [...active.values()].filter((r) => r.tenantId === tenantId).length >= cap) {
      throw new AppError(
        ErrorCode.ConcurrencyLimited,
        `At most ${cap} runs may execute at once; wait for one to finish.`,
        {
          details: { limit: cap },
        },
      );
    }
    const verdict = await deps.rateLimiter?.consume(tenantId);
    if (verdict && !verdict.allowed) {
      const retryAfterSeconds = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
      throw new AppError(ErrorCode.RateLimited, `Too many runs started; retry in ${retryAfterSeconds} s.`, {
        details: { retryAfterSeconds },
      });
    }
  };

  const getOrThrow = async (tenantId: string, runId: string): Promise<Run> => {
    const run = await store.runs.get(tenantId, runId);
    if (run === null) throw new AppError(ErrorCode.NotFound, `No orchestration with id ${runId}.`);
    return run;
  };

  return {
    async start(tenantId, input) {
      const { query, config } = resolveRunInput(input, deps.drawSeed);
      await admit(tenantId);
      const now = clock.now();
      const run: Run = {
        id: deps.ids.next(),
        tenantId,
        query,
        config,
        status: "RUNNING",
        response: null,
        confidence: null,
        merkleRoot: null,
        traceRoot: null,
        levelsProcessed: 0,
        leafOrder: [],
        model: deps.llm.model,
        tokensUsed: NO_TOKENS,
        error: null,
        ownerId: instanceId,
        heartbeatAt: now,
        createdAt: now,
        startedAt: now,
        completedAt: null,
      };
      await store.runs.create(run);
      launch(run, []);
      return run;
    },

    async resume(tenantId, runId) {
      const current = await getOrThrow(tenantId, runId);
      if (current.status !== "INTERRUPTED") {
        throw badInput(`Only INTERRUPTED runs can be resumed; this one is ${current.status}.`, {
          argument: "id",
        });
      }
      await admit(tenantId);
      const now = clock.now();
      const run = await store.runs.transition(tenantId, runId, ["INTERRUPTED"], {
        status: "RUNNING",
        error: null,
        completedAt: null,
        ownerId: instanceId,
        heartbeatAt: now,
      });
      if (run === null)
        throw new AppError(ErrorCode.Conflict, `Orchestration ${runId} was resumed elsewhere first.`);
      launch(run, await store.agents.listByRun(tenantId, runId));
      return run;
    },

    async cancel(tenantId, runId) {
      const run = await getOrThrow(tenantId, runId);
      const entry = active.get(runId);
      if (entry === undefined) return run;
      entry.controller.abort(abortReason(ErrorCode.Cancelled, "Cancelled by the client."));
      await entry.done;
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

    recover: () => leases.recover(),
    startMaintenance: () => leases.start(),
    activeRuns: () => active.size,

    async shutdown(graceMs) {
      accepting = false;
      leases.stop();
      const all = () => Promise.all([...active.values()].map((r) => r.done));
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      });
      await Promise.race([all(), graceOver]);
      clearTimeout(timer);
      for (const r of active.values()) {
        r.controller.abort(abortReason(ErrorCode.Interrupted, "Interrupted by server shutdown."));
      }
      await all();
    },
  };
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
