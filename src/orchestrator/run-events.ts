import type { RunEvent, RunEventBody } from "../domain/events.js";
import { isTerminal } from "../domain/run.js";
import type { Clock } from "../ports/clock.js";
import type { EventBus } from "../ports/event-bus.js";
import type { Store } from "../ports/stores.js";
import { REPLAY_BATCH_SIZE } from "./defaults.js";

/** Writes a run's events: each gets the next seq, is stored, and only then published. */
export interface RunEventLog {
  emit(body: RunEventBody): Promise<RunEvent>;
}

export const createRunEventLog = (deps: {
  store: Store;
  bus: EventBus;
  clock: Clock;
  tenantId: string;
  runId: string;
  lastSeq: number;
}): RunEventLog => {
  let seq = deps.lastSeq;
  // Appends are chained so that concurrent agents' events are stored and published in seq order.
  let tail: Promise<unknown> = Promise.resolve();
  return {
    emit(body) {
      const write = tail.then(async () => {
        const event = {
          ...body,
          runId: deps.runId,
          tenantId: deps.tenantId,
          seq: seq + 1,
          at: deps.clock.now(),
        } as RunEvent;
        await deps.store.events.append(event);
        seq = event.seq;
        await deps.bus.publish("runEvent", deps.runId, event);
        return event;
      });
      tail = write.catch(() => undefined);
      return write;
    },
  };
};

/**
 * A run's events after `afterSeq`: first replayed from the log, then live from the bus, with no gap
 * and no duplicate. Ends with the log of a finished run, or after a live RunFinished. The caller
 * checks that the run exists and belongs to the tenant.
 */
export async function* streamRunEvents(
  deps: { store: Store; bus: EventBus },
  tenantId: string,
  runId: string,
  afterSeq: number,
): AsyncGenerator<RunEvent> {
  // Subscribe before reading the log so that nothing published in between is missed.
  const live = deps.bus.subscribe("runEvent", runId);
  try {
    await live.ready;
    let last = afterSeq;
    const replay = async function* (upTo: number) {
      while (last < upTo) {
        const batch = await deps.store.events.list(
          tenantId,
          runId,
          last,
          Math.min(REPLAY_BATCH_SIZE, upTo - last),
        );
        if (batch.length === 0) return;
        for (const e of batch) {
          last = e.seq;
          yield e;
        }
      }
    };
    // A resumed run's log holds a RunFinished per attempt: the replay does not stop at one.
    for await (const e of replay(Number.MAX_SAFE_INTEGER)) yield e;
    const current = await deps.store.runs.get(tenantId, runId);
    if (current === null || isTerminal(current.status)) {
      // Finished (perhaps while we replayed): whatever was stored since is the rest of the log.
      for await (const e of replay(Number.MAX_SAFE_INTEGER)) yield e;
      return;
    }
    for await (const e of live) {
      if (e.seq <= last) continue;
      if (e.seq > last + 1) for await (const missed of replay(e.seq - 1)) yield missed;
      last = e.seq;
      yield e;
      if (e.type === "RunFinished") return;
    }
  } finally {
    await live.return?.();
  }
}
