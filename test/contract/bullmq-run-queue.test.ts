import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createBullRunQueue } from "../../src/adapters/queue/bullmq-queue.js";
import type { RunDelivery } from "../../src/ports/run-queue.js";
import { connectRedis, redisUrl } from "../support/redis.js";
import { waitFor } from "../support/wait.js";
import { runQueueContract } from "./run-queue.contract.js";

const openQueue = async (prefix: string, concurrency: number) => {
  const [commands, subscriber] = [await connectRedis(), await connectRedis()];
  const existsCalls = { count: 0 };
  const exists = commands.exists.bind(commands);
  commands.exists = ((...args: Parameters<typeof commands.exists>) => {
    existsCalls.count++;
    return exists(...args);
  }) as typeof commands.exists;
  const queue = await createBullRunQueue({
    url: redisUrl(),
    prefix,
    commands,
    subscriber,
    concurrency,
    lockDurationMs: 2_000,
    stalledIntervalMs: 1_000,
    maxWorkersLost: 2,
    onError: () => undefined,
  });
  return {
    queue,
    commands,
    /** How often the queue asked Redis whether a run has a cancel mark. */
    existsCalls,
    close: async () => {
      await queue.close();
      const keys = await commands.keys(`${prefix}:*`);
      if (keys.length > 0) await commands.del(...keys);
      commands.disconnect();
      subscriber.disconnect();
    },
  };
};

runQueueContract({
  name: "BullMQ (two instances)",
  create: async ({ concurrency }) => {
    const prefix = `vex-test-${randomUUID()}`;
    const [a, b] = [await openQueue(prefix, concurrency), await openQueue(prefix, concurrency)];
    return {
      a: a.queue,
      b: b.queue,
      destroy: async () => {
        await a.close();
        await b.close();
      },
    };
  },
});

describe("BullMQ run queue: hand-back", () => {
  it("delivers a run handed back at shutdown to another worker, saying so", async () => {
    const prefix = `vex-test-${randomUUID()}`;
    const [a, b] = [await openQueue(prefix, 2), await openQueue(prefix, 2)];
    try {
      const onA: RunDelivery[] = [];
      const onB: RunDelivery[] = [];
      await a.queue.work(async (d) => {
        onA.push(d);
        return "handBack";
      });
      const runId = randomUUID();
      await b.queue.enqueue({ runId, tenantId: "t", enqueuedAt: Date.now() });
      await waitFor(async () => onA.length >= 1);
      await a.queue.stopWorking();
      await b.queue.work(async (d) => {
        onB.push(d);
        return "done";
      });
      await waitFor(async () => onB.length === 1);
      expect(onB[0]).toMatchObject({ job: { runId }, redelivery: "WORKER_SHUTDOWN", workersLost: 0 });
      await waitFor(
        async () => (await b.queue.depth()).active === 0 && (await b.queue.depth()).waiting === 0,
      );
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe("BullMQ run queue: a cancel before the run was taken", () => {
  it("aborts the delivery of a run cancelled before a worker took it; checked after the handler started", async () => {
    const prefix = `vex-test-${randomUUID()}`;
    const a = await openQueue(prefix, 1);
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      const runId = randomUUID();
      // What cancel() leaves when the job could not be removed any more (a worker was taking it).
      await a.commands.set(`${prefix}:runs:cancelled:${runId}`, "1");
      let checksWhenStarted = -1;
      const seen: RunDelivery[] = [];
      await a.queue.work(async (d) => {
        checksWhenStarted = a.existsCalls.count;
        seen.push(d);
        await held;
        return "done";
      });
      await a.queue.enqueue({ runId, tenantId: "t", enqueuedAt: Date.now() });
      await waitFor(async () => seen[0]?.cancelled.aborted === true);
      // The handler took the run before the check's write; the check came right after.
      expect(checksWhenStarted).toBe(0);
      expect(a.existsCalls.count).toBe(1);
      release();
      await waitFor(async () => (await a.queue.depth()).active === 0);
    } finally {
      release();
      await a.close();
    }
  });
});
