import { ErrorCode } from "../domain/errors.js";
import type { Run } from "../domain/run.js";
import type { Clock } from "../ports/clock.js";
import type { EventBus } from "../ports/event-bus.js";
import type { Store } from "../ports/stores.js";
import { createRunEventLog } from "./run-events.js";

/** The error a run gets when its owner stopped before finishing it. */
export const LAPSED_LEASE_ERROR = {
  code: ErrorCode.Interrupted,
  message:
    "The server running this orchestration stopped before it finished; resume it with resumeOrchestration.",
} as const;

const RENEWALS_PER_LEASE = 3;

/**
 * Run ownership across processes. The owner renews `heartbeatAt` of its RUNNING runs every third
 * of the lease; `recover()` interrupts RUNNING runs whose lease lapsed (their process died), by
 * compare-and-set so that only one instance records it, keeping their completed agents.
 */
export const createLeaseKeeper = (deps: {
  store: Store;
  bus: EventBus;
  clock: Clock;
  leaseMs: number;
  isLocal: (runId: string) => boolean;
  localRuns: () => { id: string; tenantId: string }[];
  onError: (error: unknown, runId: string) => void;
}) => {
  const timers: NodeJS.Timeout[] = [];

  const renew = async () => {
    const now = deps.clock.now();
    for (const run of deps.localRuns()) {
      await deps.store.runs
        .update(run.tenantId, run.id, { heartbeatAt: now })
        .catch((e) => deps.onError(e, run.id));
    }
  };

  const interrupt = async (run: Run): Promise<boolean> => {
    const now = deps.clock.now();
    const moved = await deps.store.runs.transition(run.tenantId, run.id, ["RUNNING", "PENDING"], {
      status: "INTERRUPTED",
      error: LAPSED_LEASE_ERROR,
      completedAt: now,
      ownerId: null,
    });
    if (moved === null) return false;
    for (const agent of await deps.store.agents.listByRun(run.tenantId, run.id)) {
      if (agent.state === "COMPLETED") continue;
      await deps.store.agents.update(run.tenantId, agent.id, { state: "INTERRUPTED", completedAt: now });
    }
    const log = createRunEventLog({
      ...deps,
      tenantId: run.tenantId,
      runId: run.id,
      lastSeq: await deps.store.events.lastSeq(run.tenantId, run.id),
    });
    await log.emit({
      type: "RunFinished",
      status: "INTERRUPTED",
      response: null,
      confidence: null,
      merkleRoot: null,
      traceRoot: null,
      error: LAPSED_LEASE_ERROR,
    });
    return true;
  };

  const recover = async (): Promise<number> => {
    const cutoff = deps.clock.now().getTime() - deps.leaseMs;
    let interrupted = 0;
    for (const run of await deps.store.runs.findByStatus(["RUNNING", "PENDING"])) {
      const renewed = (run.heartbeatAt ?? run.startedAt ?? run.createdAt).getTime();
      if (deps.isLocal(run.id) || renewed > cutoff) continue;
      try {
        if (await interrupt(run)) interrupted++;
      } catch (e) {
        deps.onError(e, run.id);
      }
    }
    return interrupted;
  };

  return {
    recover,
    start() {
      const renewal = setInterval(
        () => void renew(),
        Math.max(1, Math.floor(deps.leaseMs / RENEWALS_PER_LEASE)),
      );
      const recovery = setInterval(() => void recover().catch(() => undefined), deps.leaseMs);
      renewal.unref();
      recovery.unref();
      timers.push(renewal, recovery);
    },
    stop() {
      for (const t of timers.splice(0)) clearInterval(t);
    },
  };
};
