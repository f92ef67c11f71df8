import { AppError, ErrorCode } from "../domain/errors.js";
import type { RunEvent } from "../domain/events.js";
import { type Agent, NO_TOKENS, type Run } from "../domain/run.js";
import type { Clock } from "../ports/clock.js";
import type { AgentToken, EventBus } from "../ports/event-bus.js";
import type { GenomeSource } from "../ports/genomes.js";
import type { IdGenerator } from "../ports/ids.js";
import type { LlmClient } from "../ports/llm.js";
import type { RateLimiter } from "../ports/rate-limiter.js";
import type { Store } from "../ports/stores.js";
import type { Tracer } from "../ports/tracing.js";
import { assertResumable, createAdmission } from "./admission.js";
import { DEFAULT_RUN_LEASE_MS } from "./defaults.js";
import type { RunHook } from "./hooks.js";
import { createLeaseKeeper } from "./leases.js";
import { streamRunEvents } from "./run-events.js";
import { type BackgroundErrorHandler, createRunExecutor } from "./run-executor.js";
import { resolveRunInput, type StartRunInput } from "./run-input.js";

export { FINAL_WRITE_RETRY_MAX_MS, FINAL_WRITE_RETRY_MS } from "./run-executor.js";

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
  /** Base completion budget on reasoning models. @default DEFAULT_REASONING_BASE_MAX_TOKENS */
  readonly reasoningBaseMaxTokens?: number;
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
  readonly onBackgroundError?: BackgroundErrorHandler;
  /** Spans for runs (invoke_workflow) and agents (invoke_agent); none when absent. */
  readonly tracer?: Tracer;
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

const abortReason = (code: typeof ErrorCode.Cancelled | typeof ErrorCode.Interrupted, message: string) =>
  new AppError(code, message);

/**
 * The run engine: admits, stores and executes runs in the background (see Orchestrator), owns
 * their leases, and on shutdown lets them finish or interrupts them.
 */
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

  const execute = createRunExecutor(deps, () => accepting);
  const admit = createAdmission(deps, {
    isAccepting: () => accepting,
    activeRunsOf: (tenantId) => [...active.values()].filter((r) => r.tenantId === tenantId).length,
  });

  const launch = (run: Run, existing: readonly Agent[]) => {
    const controller = new AbortController();
    const done = execute(run, controller, existing)
      .catch((e) => deps.onBackgroundError?.(e, { runId: run.id }))
      .finally(() => active.delete(run.id));
    active.set(run.id, { tenantId: run.tenantId, controller, done });
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
      assertResumable(current);
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
