import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { DeliveryOutcome, RunDelivery, RunQueue } from "../../src/ports/run-queue.js";
import { waitFor } from "../support/wait.js";

export interface RunQueueContractInit {
  readonly name: string;
  /** Two views of one queue (two instances; for the in-process queue the same object twice). */
  create(options: { concurrency: number }): Promise<{ a: RunQueue; b: RunQueue; destroy(): Promise<void> }>;
}

const job = () => ({ runId: randomUUID(), tenantId: "t", enqueuedAt: Date.now() });

/** A handler that records deliveries and finishes each when the test says so. */
const controlledHandler = () => {
  const deliveries: RunDelivery[] = [];
  const finishers = new Map<string, (o: DeliveryOutcome) => void>();
  const handler = (d: RunDelivery) => {
    deliveries.push(d);
    return new Promise<DeliveryOutcome>((resolve) => {
      finishers.set(d.job.runId, resolve);
      d.cancelled.addEventListener("abort", () => resolve("done"), { once: true });
    });
  };
  const finish = (runId: string, outcome: DeliveryOutcome = "done") => finishers.get(runId)?.(outcome);
  return { deliveries, handler, finish };
};

/** Behaviour every RunQueue adapter must have. */
export const runQueueContract = (init: RunQueueContractInit) =>
  describe(`RunQueue contract: ${init.name}`, () => {
    let destroy: (() => Promise<void>) | undefined;
    afterEach(async () => {
      await destroy?.();
      destroy = undefined;
    });
    const open = async (concurrency: number) => {
      const q = await init.create({ concurrency });
      destroy = q.destroy;
      return q;
    };

    it("delivers each run once to a worker, enqueued from any instance, a duplicate enqueue ignored", async () => {
      const { a, b } = await open(4);
      const h = controlledHandler();
      await a.work(h.handler);
      const runs = [job(), job()];
      await b.enqueue(runs[0] as ReturnType<typeof job>);
      await b.enqueue(runs[0] as ReturnType<typeof job>);
      await a.enqueue(runs[1] as ReturnType<typeof job>);
      await waitFor(async () => h.deliveries.length === 2);
      expect(h.deliveries.map((d) => d.job.runId).sort()).toEqual(runs.map((r) => r.runId).sort());
      expect(h.deliveries.every((d) => d.redelivery === null && d.workersLost === 0)).toBe(true);
      expect(a.activeHere()).toBe(2);
      for (const r of runs) h.finish(r.runId);
      await waitFor(async () => a.activeHere() === 0);
      await waitFor(async () => (await b.depth()).active === 0);
    });

    it("executes at most `concurrency` runs at once per worker; the rest wait", async () => {
      const { a, b } = await open(1);
      const h = controlledHandler();
      await a.work(h.handler);
      const [first, second] = [job(), job()];
      await b.enqueue(first);
      await b.enqueue(second);
      await waitFor(async () => h.deliveries.length === 1);
      expect(await b.depth()).toMatchObject({ waiting: 1, active: 1 });
      h.finish(first.runId);
      await waitFor(async () => h.deliveries.length === 2);
      expect(h.deliveries[1]?.job.runId).toBe(second.runId);
      h.finish(second.runId);
    });

    it("removes a waiting run on cancel, and signals the worker of an executing one", async () => {
      const { a, b } = await open(1);
      const h = controlledHandler();
      await a.work(h.handler);
      const [running, waiting] = [job(), job()];
      await a.enqueue(running);
      await waitFor(async () => h.deliveries.length === 1);
      await a.enqueue(waiting);
      expect(await b.cancel(waiting.runId)).toBe("removed");
      expect(await b.cancel(running.runId)).toBe("signalled");
      await waitFor(async () => h.deliveries[0]?.cancelled.aborted === true);
      await waitFor(async () => a.activeHere() === 0);
      expect(h.deliveries.map((d) => d.job.runId)).toEqual([running.runId]);
    });

    it("stops taking runs on stopWorking, once the handlers in flight returned", async () => {
      const { a, b } = await open(2);
      const h = controlledHandler();
      await a.work(h.handler);
      const first = job();
      await b.enqueue(first);
      await waitFor(async () => h.deliveries.length === 1);
      const stopped = a.stopWorking();
      h.finish(first.runId);
      await stopped;
      await b.enqueue(job());
      expect(h.deliveries).toHaveLength(1);
    });
  });
