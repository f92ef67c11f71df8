import { isInProgress, type Run, type RunError, type RunStatus } from "../domain/run.js";
import type { Clock } from "../ports/clock.js";
import type { EventBus } from "../ports/event-bus.js";
import type { Store } from "../ports/stores.js";
import { createRunEventLog } from "./run-events.js";
import { AGENT_STATE_OF_RUN_END } from "./run-executor.js";

/**
 * Ends a run that no worker is executing (cancelled while queued or awaiting review, or lost its
 * worker too often): by compare-and-set from PENDING/RUNNING/AWAITING_REVIEW, so that only one instance records it; completed agents are
 * kept, unfinished ones take the end state, and RunFinished continues the run's log. Returns the
 * ended run, or null when it had ended already.
 */
export const endUnexecutedRun = async (
  deps: { store: Store; bus: EventBus; clock: Clock },
  run: Run,
  status: Exclude<RunStatus, "SUCCEEDED" | "PENDING" | "RUNNING" | "AWAITING_REVIEW">,
  error: RunError,
): Promise<Run | null> => {
  const { store, clock } = deps;
  const now = clock.now();
  const ended = await store.runs.transition(run.tenantId, run.id, ["PENDING", "RUNNING", "AWAITING_REVIEW"], {
    status,
    error,
    completedAt: now,
  });
  if (ended === null) return null;
  for (const agent of await store.agents.listByRun(run.tenantId, run.id)) {
    if (!isInProgress(agent.state)) continue;
    await store.agents.update(run.tenantId, agent.id, {
      state: AGENT_STATE_OF_RUN_END[status],
      completedAt: now,
    });
  }
  const log = createRunEventLog({
    ...deps,
    tenantId: run.tenantId,
    runId: run.id,
    lastSeq: await store.events.lastSeq(run.tenantId, run.id),
  });
  await log.emit({
    type: "RunFinished",
    status,
    response: null,
    confidence: null,
    merkleRoot: null,
    traceRoot: null,
    error,
  });
  await log.published();
  return ended;
};
