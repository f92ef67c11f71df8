import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createBullRunQueue } from "../../src/adapters/queue/bullmq-queue.js";
import type { RunDelivery } from "../../src/ports/run-queue.js";
import { connectRedis, redisUrl } from "../support/redis.js";
import { waitFor } from "../support/wait.js";
import { runQueueContract } from "./run-queue.contract.js";

const openQueue = async (prefix: string, concurrency: number) => {
  const [commands, subscriber] = [await connectRedis(), await connectRedis()];
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
