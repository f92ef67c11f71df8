import type { RunEvent, RunEventBody } from "../domain/events.js";
import { isTerminal } from "../domain/run.js";
import type { Clock } from "../ports/clock.js";
import type { EventBus } from "../ports/event-bus.js";
import type { StateChange, Store } from "../ports/stores.js";
import { MAX_EVENT_WRITE_BATCH, REPLAY_BATCH_SIZE } from "./defaults.js";

/** Writes a run's events: each gets the next seq, is stored, and only then published. */
export interface RunEventLog {
  /**
   * Stores the event, with the record changes it announces (applied before it, in the same write),
   * and resolves with it; it is published after, in seq order, without holding up the run.
   * Rejects, publishing nothing, when the write fails.
   */
  emit(body: RunEventBody, changes?: readonly StateChange[]): Promise<RunEvent>;
  /**
   * Resolves once every event stored so far is published; rejects with the first publish that
   * failed since the last call (the event is stored: subscribers read it from the log).
   */
  published(): Promise<void>;
}

interface Pending {
  readonly body: RunEventBody;
  readonly changes: readonly StateChange[] | undefined;
  resolve(event: RunEvent): void;
  reject(reason: unknown): void;
}

/**
 * The event log of one run. An emitted event's write starts a microtask later, once the code that
 * emitted it yields, so events emitted together — by the same synchronous code, or while a write is
 * in flight (concurrent agents emit at the same time) — are stored in one write with the record
 * changes they announce: one store round trip (one transaction) for the group. Each `emit` resolves
 * once its event is stored. Stored events are published one by one in seq order behind the writes,
 * so a bus round trip per event (Redis) is not on the run's path; the run awaits `published()` before
 * it counts as done. A group the store refuses rejects every emit in it; since an ordered batch may
 * have been stored in part, the next write first reads the log's last seq again.
 */
export const createRunEventLog = (deps: {
  store: Store;
  bus: EventBus;
  clock: Clock;
  tenantId: string;
  runId: string;
  lastSeq: number;
}): RunEventLog => {
  let seq = deps.lastSeq;
  let resync = false;
  const queue: Pending[] = [];
  let writing = false;
  /** The publishing of every event stored so far, in seq order. */
  let publishing = Promise.resolve();
  let publishFailure: { readonly reason: unknown } | undefined;

  const publishInOrder = (events: readonly RunEvent[]) => {
    publishing = publishing.then(async () => {
      for (const event of events) {
        try {
          await deps.bus.publish("runEvent", deps.runId, event);
        } catch (e) {
          // Later events still go out: a subscriber that sees the gap reads the log for it.
          publishFailure ??= { reason: e };
        }
      }
    });
  };

  const writeGroup = async (group: readonly Pending[]) => {
    try {
      if (resync) {
        seq = await deps.store.events.lastSeq(deps.tenantId, deps.runId);
        resync = false;
      }
      const events = group.map(
        ({ body }, i) =>
          ({
            ...body,
            runId: deps.runId,
            tenantId: deps.tenantId,
            seq: seq + 1 + i,
            at: deps.clock.now(),
          }) as RunEvent,
      );
      const changes = group.flatMap((pending) => pending.changes ?? []);
      await deps.store.events.append(events, changes);
      seq += events.length;
      publishInOrder(events);
      for (const [i, event] of events.entries()) group[i]?.resolve(event);
    } catch (e) {
      resync = true;
      for (const pending of group) pending.reject(e);
    }
  };

  const drain = async () => {
    while (queue.length > 0) await writeGroup(queue.splice(0, MAX_EVENT_WRITE_BATCH));
    writing = false;
  };

  return {
    emit: (body, changes) =>
      new Promise<RunEvent>((resolve, reject) => {
        queue.push({ body, changes, resolve, reject });
        if (writing) return;
        writing = true;
        queueMicrotask(() => void drain());
      }),
    published: async () => {
      await publishing;
      const failure = publishFailure;
      publishFailure = undefined;
      if (failure !== undefined) throw failure.reason;
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
        const wanted = Math.min(REPLAY_BATCH_SIZE, upTo - last);
        const batch = await deps.store.events.list(tenantId, runId, last, wanted);
        for (const e of batch) {
          last = e.seq;
          yield e;
        }
        // A short batch is the end of the log as it was read; what was stored since comes live.
        if (batch.length < wanted) return;
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
