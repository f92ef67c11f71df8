import { AppError, ErrorCode } from "../domain/errors.js";
import type { RunEvent } from "../domain/events.js";
import { fromHex, merkleRootFromLeafHashes, toHex } from "../domain/merkle.js";
import { type Agent, NO_TOKENS, type Run, type RunError, type RunStatus } from "../domain/run.js";
import { runTraceRoot } from "../domain/transcript.js";
import type { Clock } from "../ports/clock.js";
import type { AgentToken, EventBus } from "../ports/event-bus.js";
import type { GenomeSource } from "../ports/genomes.js";
import type { IdGenerator } from "../ports/ids.js";
import type { LlmClient } from "../ports/llm.js";
import type { RateLimiter } from "../ports/rate-limiter.js";
import type { Store } from "../ports/stores.js";
import { ROOT_SPEC, type RunContext, runAgent } from "./agent-runner.js";
import type { RunCompletion, RunHook } from "./hooks.js";
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
  /** Per-tenant admission rate for new runs; absent means unlimited. */
  readonly rateLimiter?: RateLimiter;
  /** Most runs one tenant may have executing in this process at once. */
  readonly maxConcurrentRunsPerTenant?: number;
  /** Steps that plug into every run, in order (evolution, provenance). */
  readonly hooks?: readonly RunHook[];
  /** Called with errors that have nowhere else to go (a run whose failure could not be stored). */
  readonly onBackgroundError?: (error: unknown, context: { runId: string; hook?: string }) => void;
}

export interface Orchestrator {
  /** Validates and stores a run, starts it in the background and returns it (RUNNING). */
  start(tenantId: string, input: StartRunInput): Promise<Run>;
  /** Cancels a run of this tenant; a finished run is returned unchanged. */
  cancel(tenantId: string, runId: string): Promise<Run>;
  /** A run's events after afterSeq, replayed then live; rejects with NOT_FOUND for another tenant's run. */
  events(tenantId: string, runId: string, afterSeq: number): Promise<AsyncGenerator<RunEvent>>;
  /** A run's live token stream; rejects with NOT_FOUND for another tenant's run. */
  tokens(tenantId: string, runId: string): Promise<AsyncIterableIterator<AgentToken>>;
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

export const createOrchestrator = (deps: OrchestratorDeps): Orchestrator => {
  const { store, clock } = deps;
  const active = new Map<string, ActiveRun>();
  let accepting = true;

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

  const execute = async (run: Run, controller: AbortController): Promise<void> => {
    const log = createRunEventLog({
      store,
      bus: deps.bus,
      clock,
      tenantId: run.tenantId,
      runId: run.id,
      lastSeq: 0,
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
      abortRun: (reason) => {
        if (!controller.signal.aborted) controller.abort(reason);
      },
      usage: NO_TOKENS,
    };
    let status: RunStatus;
    let patch: Partial<Run>;
    try {
      await log.emit({ type: "RunStarted", query: run.query });
      const root = await runAgent(ctx, ROOT_SPEC);
      const agents = await store.agents.listByRun(run.tenantId, run.id);
      patch = { ...summarise(root, agents), tokensUsed: ctx.usage };
      await store.runs.update(run.tenantId, run.id, patch);
      await runHooks({ run: { ...run, ...patch }, agents, emit: log.emit, signal: controller.signal });
      status = "SUCCEEDED";
    } catch (e) {
      const reason = controller.signal.aborted ? controller.signal.reason : e;
      const error = toRunError(reason);
      status =
        error.code === ErrorCode.Cancelled
          ? "CANCELLED"
          : error.code === ErrorCode.Interrupted
            ? "INTERRUPTED"
            : "FAILED";
      patch = { error, tokensUsed: ctx.usage };
    }
    const completedAt = clock.now();
    await store.runs.update(run.tenantId, run.id, { ...patch, status, completedAt });
    await log.emit({
      type: "RunFinished",
      status,
      response: patch.response ?? null,
      confidence: patch.confidence ?? null,
      merkleRoot: patch.merkleRoot ?? null,
      traceRoot: patch.traceRoot ?? null,
      error: patch.error ?? null,
    });
  };

  /** Throws CONCURRENCY_LIMITED or RATE_LIMITED (with retryAfterSeconds) when the tenant may not start a run. */
  const admit = async (tenantId: string) => {
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
      if (!accepting)
        throw new AppError(ErrorCode.ShuttingDown, "The server is shutting down; start the run elsewhere.");
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
        createdAt: now,
        startedAt: now,
        completedAt: null,
      };
      await store.runs.create(run);
      const controller = new AbortController();
      const done = execute(run, controller)
        .catch((e) => deps.onBackgroundError?.(e, { runId: run.id }))
        .finally(() => active.delete(run.id));
      active.set(run.id, { tenantId, controller, done });
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

    activeRuns: () => active.size,

    async shutdown(graceMs) {
      accepting = false;
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
