import { Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { nowMs } from "./stats.js";

/** Name of the floor's BullMQ queue (its keys live under the caller's prefix). */
const FLOOR_QUEUE_NAME = "dispatch-floor";
/** Keys deleted per DEL while cleaning a prefix up. */
const DELETE_BATCH = 500;

/** One raw Redis round trip: PING from `redis` until its PONG resolves, ms. */
export const pingOnce = async (redis: Redis): Promise<number> => {
  const t0 = nowMs();
  await redis.ping();
  return nowMs() - t0;
};

/** One job through the raw BullMQ floor. */
export interface BullFloorSample {
  /** queue.add called → its promise resolved (the client side of an add: one script round trip). */
  readonly addMs: number;
  /** queue.add called → the worker's (empty) processor is called with the job. */
  readonly pickupMs: number;
}

export interface BullFloor {
  /** Adds one job, waits until the worker has picked it up and completed it; times as above. */
  once(): Promise<BullFloorSample>;
  /** Closes the worker and the queue and deletes the floor's keys. */
  close(): Promise<void>;
}

/**
 * BullMQ itself, with nothing of the product: a Queue and a Worker in this process on `url`, an empty
 * processor, jobs added one at a time with the product's options (explicit jobId, removed on
 * completion), and the worker idle on its blocking fetch when each job is added.
 */
export const openBullFloor = async (options: {
  readonly url: string;
  readonly prefix: string;
  /** The product's worker concurrency, so BullMQ fetches the same way. */
  readonly concurrency: number;
}): Promise<BullFloor> => {
  const connection = { url: options.url, maxRetriesPerRequest: null };
  const queue = new Queue(FLOOR_QUEUE_NAME, { connection, prefix: options.prefix });
  let picked: ((at: number) => void) | undefined;
  let completed: (() => void) | undefined;
  const worker = new Worker(
    FLOOR_QUEUE_NAME,
    async () => {
      picked?.(nowMs());
    },
    { connection, prefix: options.prefix, concurrency: options.concurrency },
  );
  worker.on("completed", () => completed?.());
  await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()]);
  let next = 0;
  return {
    async once() {
      const pickedAt = new Promise<number>((resolve) => {
        picked = resolve;
      });
      const done = new Promise<void>((resolve) => {
        completed = resolve;
      });
      const t0 = nowMs();
      await queue.add(
        FLOOR_QUEUE_NAME,
        { n: next },
        { jobId: `floor-${next++}`, removeOnComplete: true, removeOnFail: true },
      );
      const addMs = nowMs() - t0;
      const pickupMs = (await pickedAt) - t0;
      await done;
      return { addMs, pickupMs };
    },
    async close() {
      await worker.close();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    },
  };
};

/** Deletes every key under `prefix:` (a benchmark's own queue, slots and rate keys). */
export const deletePrefix = async (redis: Redis, prefix: string): Promise<number> => {
  let deleted = 0;
  let cursor = "0";
  do {
    const [at, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", DELETE_BATCH);
    cursor = at;
    if (keys.length > 0) deleted += await redis.del(...keys);
  } while (cursor !== "0");
  return deleted;
};
