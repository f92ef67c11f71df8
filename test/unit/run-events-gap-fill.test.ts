import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { createEmbeddedStore } from "../../src/adapters/embedded/embedded-store.js";
import { openBus } from "../../src/app/bus.js";
import { loadConfig } from "../../src/config.js";
import type { RunEvent, RunEventBody } from "../../src/domain/events.js";
import { createRunEventLog, streamRunEvents } from "../../src/orchestrator/run-events.js";
import type { BusSubscription, EventBus } from "../../src/ports/event-bus.js";
import type { Store } from "../../src/ports/stores.js";
import { aRun } from "../fixtures/builders.js";
import { steppingClock } from "../support/orchestrator.js";
import { connectRedis, redisUrl } from "../support/redis.js";

/**
 * The server side of "replays, then live, without gaps or duplicates" (run-events.ts): a subscriber
 * that falls behind loses its oldest bus messages (the subscriber buffer) and reads them back from
 * the log; messages it already replayed are dropped. The bus is built the way production builds
 * it: from the configuration, VEX_SUBSCRIBER_BUFFER included, on both buses.
 */

const TENANT = "tenant-a";
/** Bus messages the slow subscriber may hold: far fewer than a burst. */
const BUFFER = 2;
const BURST = 10;

// Fails the file (never skips) when Redis is missing.
(await connectRedis()).disconnect();

const started = (query: string): RunEventBody => ({ type: "RunStarted", query });
const finished: RunEventBody = {
  type: "RunFinished",
  status: "SUCCEEDED",
  response: "done",
  confidence: 1,
  merkleRoot: null,
  traceRoot: null,
  error: null,
};

/** The bus, recording the seq of every run event each of its subscriptions hands out. */
const tapped = (bus: EventBus, seen: number[]): EventBus => ({
  ...bus,
  subscribe: (topic, id) => {
    const inner = bus.subscribe(topic, id);
    const sub = {
      ready: inner.ready,
      next: async () => {
        const r = await inner.next();
        if (!r.done) seen.push((r.value as RunEvent).seq);
        return r;
      },
      return: () => inner.return?.() ?? Promise.resolve({ value: undefined, done: true as const }),
      [Symbol.asyncIterator]() {
        return sub;
      },
    };
    return sub as unknown as BusSubscription<never>;
  },
});

/**
 * Resolves once `sub` has handed out the event with `seq` (a message is delivered to every queue of a
 * channel at once). Reads with next(), not for-await, which would close the subscription on return.
 */
const seen = async (sub: BusSubscription<RunEvent>, seq: number) => {
  for (;;) {
    const r = await sub.next();
    if (r.done) throw new Error(`the subscription ended before seq ${seq}`);
    if (r.value.seq === seq) return;
  }
};

const handles: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const h of handles.splice(0)) await h.close();
});

const setUp = async (env: Record<string, string>, readLog?: (store: Store) => Store) => {
  const config = loadConfig({ ...env, VEX_SUBSCRIBER_BUFFER: String(BUFFER), LOG_LEVEL: "silent" });
  expect(config.subscriberBuffer).toBe(BUFFER);
  const opened = await openBus(config);
  const store: Store = await createEmbeddedStore({ dataDir: null });
  handles.push({ close: () => opened.bus.close().then(() => opened.close()) }, store);
  const run = aRun({ id: `run-${randomUUID()}`, tenantId: TENANT, status: "RUNNING" });
  await store.runs.create(run);
  const log = createRunEventLog({
    store,
    bus: opened.bus,
    clock: steppingClock(),
    tenantId: TENANT,
    runId: run.id,
    lastSeq: 0,
  });
  const fromBus: number[] = [];
  const stream = streamRunEvents(
    { store: readLog?.(store) ?? store, bus: tapped(opened.bus, fromBus) },
    TENANT,
    run.id,
    0,
  );
  /** A subscriber that keeps up, to know when the bus has delivered a message. */
  const watcher = opened.bus.subscribe("runEvent", run.id);
  await watcher.ready;
  handles.push({ close: async () => void (await watcher.return?.()) });
  return { log, stream, fromBus, watcher };
};

const rest = async (stream: AsyncGenerator<RunEvent>) => {
  const out: number[] = [];
  for await (const e of stream) out.push(e.seq);
  return out;
};

const BUSES: [string, Record<string, string>][] = [
  ["the in-process bus", {}],
  ["the Redis bus", { REDIS_URL: redisUrl() }],
];

describe.each(BUSES)("streamRunEvents on %s", (_name, env) => {
  it("gives a subscriber that fell behind every seq once: what the bus dropped is read back from the log", async () => {
    const { log, stream, fromBus, watcher } = await setUp(env);
    await log.emit(started("q"));
    // Delivered before the stream subscribes, so seq 1 can only come from the log (on Redis a message
    // still in flight would reach a subscription made after it was published).
    await seen(watcher, 1);
    // seq 1 replayed from the log; seq 2 live: the stream is now in its live phase.
    expect((await stream.next()).value?.seq).toBe(1);
    const second = stream.next();
    await log.emit(started("live"));
    expect((await second).value?.seq).toBe(2);

    // The subscriber takes nothing while a burst is published: the bus keeps only the newest BUFFER.
    const last = 2 + BURST;
    for (let i = 3; i < last; i++) await log.emit(started(`burst ${i}`));
    await log.emit(finished);
    await seen(watcher, last);

    expect(await rest(stream)).toStrictEqual(Array.from({ length: last - 2 }, (_, i) => i + 3));
    // The bus handed out seq 2 and some of the newest (at most BUFFER held at once, plus what was
    // in flight); everything else came from the log.
    expect(fromBus[0]).toBe(2);
    expect(fromBus.at(-1)).toBe(last);
    expect(fromBus.length).toBeLessThanOrEqual(BUFFER + 2);
    expect(fromBus.length).toBeLessThan(last - 1);
  });

  it("drops live messages the replay already gave, with nothing repeated", async () => {
    // Two events are stored and published after the stream subscribed but before it reads the log:
    // the replay reads them, and the bus hands them out again.
    let emitDuringFirstRead: (() => Promise<void>) | null = null;
    let logReads = 0;
    const { log, stream, fromBus, watcher } = await setUp(env, (store) => ({
      ...store,
      events: {
        ...store.events,
        list: async (...args: Parameters<Store["events"]["list"]>) => {
          logReads++;
          const emit = emitDuringFirstRead;
          emitDuringFirstRead = null;
          await emit?.();
          return store.events.list(...args);
        },
      },
    }));
    await log.emit(started("q"));
    await seen(watcher, 1);
    emitDuringFirstRead = async () => {
      await log.emit(started("stored while subscribing 2"));
      await log.emit(started("stored while subscribing 3"));
      await seen(watcher, 3);
    };

    expect((await stream.next()).value?.seq).toBe(1);
    expect((await stream.next()).value?.seq).toBe(2);
    expect((await stream.next()).value?.seq).toBe(3);
    const fourth = stream.next();
    await log.emit(finished);
    expect((await fourth).value?.seq).toBe(4);
    expect((await stream.next()).done).toBe(true);
    // One read of the log: its batch was short, so the replay ended there and the stream went live.
    expect(logReads).toBe(1);
    expect(fromBus).toContain(3);
    expect(fromBus.at(-1)).toBe(4);
  });
});
