import { describe, expect, it } from "vitest";
import { createMemoryEventBus } from "../../src/adapters/bus/memory-bus.js";
import { createEmbeddedStore } from "../../src/adapters/embedded/embedded-store.js";
import { AppError, ErrorCode } from "../../src/domain/errors.js";
import type { RunEvent, RunEventBody } from "../../src/domain/events.js";
import { createRunEventLog } from "../../src/orchestrator/run-events.js";
import type { EventBus } from "../../src/ports/event-bus.js";
import type { Store } from "../../src/ports/stores.js";
import { anAgent } from "../fixtures/builders.js";
import { steppingClock, withRecordedAppends } from "../support/orchestrator.js";

const TENANT = "tenant-a";
const RUN = "run-1";
const started = (query: string): RunEventBody => ({ type: "RunStarted", query });

/** The in-memory embedded store with its event appends recorded (and optionally made to fail). */
const recordingStore = async (fail?: (batch: readonly RunEvent[], call: number) => Promise<void>) => {
  const appends: number[][] = [];
  const store = withRecordedAppends(await createEmbeddedStore({ dataDir: null }), async (batch, call) => {
    appends.push(batch.map((e) => e.seq));
    await fail?.(batch, call);
  });
  return { store, appends };
};

/** A log of the test run on `store` and `bus`, continuing after `lastSeq`. */
const logOn = (store: Store, bus: EventBus, lastSeq = 0) =>
  createRunEventLog({ store, bus, clock: steppingClock(), tenantId: TENANT, runId: RUN, lastSeq });

describe("a run's event log", () => {
  it("writes the changes emits announce with their events, in the same write, before publishing", async () => {
    const { store, appends } = await recordingStore();
    const bus = createMemoryEventBus();
    const live = bus.subscribe("runEvent", RUN);
    await live.ready;
    const log = logOn(store, bus);
    const [a, b, c] = [anAgent({ runId: RUN }), anAgent({ runId: RUN }), anAgent({ runId: RUN })];
    const emitted = await Promise.all(
      [a, b, c].map((agent) =>
        log.emit({ type: "AgentStarted", agentId: agent.id }, [{ kind: "createAgent", agent }]),
      ),
    );
    // Emitted together: one write.
    expect(appends).toStrictEqual([[1, 2, 3]]);
    expect(await store.agents.listByRun(TENANT, RUN)).toHaveLength(3);
    for await (const e of live) {
      // The agent an AgentStarted announces is stored by the time it is published.
      if (e.type === "AgentStarted") expect(await store.agents.get(TENANT, e.agentId)).not.toBeNull();
      if (e.seq === emitted.length) break;
    }
    // A refused change rejects its emit and stores no event.
    await expect(
      log.emit({ type: "AgentStarted", agentId: a.id }, [{ kind: "createAgent", agent: a }]),
    ).rejects.toMatchObject({ code: "CONFLICT" });
    expect(await store.events.lastSeq(TENANT, RUN)).toBe(3);
    expect((await log.emit(started("after"))).seq).toBe(4);
    await bus.close();
  });

  it("stores events emitted while a write is in flight in one write, then publishes each in seq order", async () => {
    // The first write is held until the next events have been emitted.
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let writing = () => {};
    const firstWrite = new Promise<void>((resolve) => {
      writing = resolve;
    });
    const { store, appends } = await recordingStore(async (_batch, call) => {
      if (call !== 1) return;
      writing();
      await held;
    });
    const bus = createMemoryEventBus();
    const live = bus.subscribe("runEvent", RUN);
    await live.ready;
    const log = logOn(store, bus);

    const first = log.emit(started("a"));
    await firstWrite;
    const rest = ["b", "c", "d"].map((q) => log.emit(started(q)));
    release();
    const emitted = await Promise.all([first, ...rest]);
    expect(emitted.map((e) => e.seq)).toStrictEqual([1, 2, 3, 4]);
    expect(appends).toStrictEqual([[1], [2, 3, 4]]);
    expect(await store.events.list(TENANT, RUN, 0)).toStrictEqual(emitted);

    const received: RunEvent[] = [];
    for await (const e of live) {
      // Published only once stored.
      expect(await store.events.lastSeq(TENANT, RUN)).toBeGreaterThanOrEqual(e.seq);
      received.push(e);
      if (received.length === emitted.length) break;
    }
    expect(received).toStrictEqual(emitted);
    expect((await log.emit(started("e"))).seq).toBe(5);
    await bus.close();
  });

  it("rejects every emit of a refused write and carries on after what the store really holds", async () => {
    const { store } = await recordingStore(async (batch, call) => {
      if (call !== 2) return;
      // The second write stores its first event, then the store goes away (an ordered batch cut short).
      await store.events.append(batch.slice(0, 1));
      throw new AppError(ErrorCode.StoreUnavailable, "gone");
    });
    const bus = createMemoryEventBus();
    const log = logOn(store, bus);

    await log.emit(started("a"));
    const results = await Promise.allSettled(["b", "c"].map((q) => log.emit(started(q))));
    expect(results.map((r) => r.status)).toStrictEqual(["rejected", "rejected"]);
    expect((results[0] as PromiseRejectedResult).reason).toMatchObject({ code: "STORE_UNAVAILABLE" });

    const next = await log.emit(started("d"));
    expect(next.seq).toBe(3);
    expect(
      (await store.events.list(TENANT, RUN, 0)).map((e) => e.type === "RunStarted" && e.query),
    ).toStrictEqual(["a", "b", "d"]);
    await bus.close();
  });

  it("resolves an emit once stored, publishes behind it in order, and reports a failed publish once", async () => {
    const { store } = await recordingStore();
    const memory = createMemoryEventBus();
    const live = memory.subscribe("runEvent", RUN);
    await live.ready;
    // A bus that holds every publish until let go, and refuses the second event's.
    let letGo = () => {};
    const held = new Promise<void>((resolve) => {
      letGo = resolve;
    });
    const bus: EventBus = {
      ...memory,
      publish: async (topic, key, event) => {
        await held;
        if ("seq" in event && event.seq === 2) throw new AppError(ErrorCode.StoreUnavailable, "bus gone");
        await memory.publish(topic, key, event);
      },
    };
    const log = logOn(store, bus);

    const emitted = await Promise.all(["a", "b", "c"].map((q) => log.emit(started(q))));
    expect(emitted.map((e) => e.seq)).toStrictEqual([1, 2, 3]);
    let done = false;
    const published = log.published().finally(() => {
      done = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(false);

    letGo();
    await expect(published).rejects.toMatchObject({ message: "bus gone" });
    const received: number[] = [];
    for await (const e of live) {
      received.push(e.seq);
      if (e.seq === 3) break;
    }
    // The event whose publish failed is in the log for subscribers to read; the others went out in order.
    expect(received).toStrictEqual([1, 3]);
    expect((await store.events.list(TENANT, RUN, 0)).map((e) => e.seq)).toStrictEqual([1, 2, 3]);
    await log.emit(started("d"));
    await expect(log.published()).resolves.toBeUndefined();
    await memory.close();
  });

  it("continues a resumed run's log after its last seq", async () => {
    const { store } = await recordingStore();
    const bus = createMemoryEventBus();
    const first = logOn(store, bus);
    await first.emit(started("a"));
    await first.emit(started("b"));
    const resumed = logOn(store, bus, await store.events.lastSeq(TENANT, RUN));
    expect((await resumed.emit({ type: "RunResumed", reusedAgentIds: [] })).seq).toBe(3);
    await bus.close();
  });
});
