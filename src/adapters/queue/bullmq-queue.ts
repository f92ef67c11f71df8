import { type Job, Queue, WaitingError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import {
  jobKey,
  type RunDelivery,
  type RunHandler,
  type RunJob,
  type RunQueue,
} from "../../ports/run-queue.js";

/** Name of the BullMQ queue of runs. */
export const RUN_QUEUE_NAME = "runs";
/** How long a cancel request is remembered for a run a worker has not taken yet. @default 1 day */
export const CANCEL_MARK_TTL_SECONDS = 86_400;

interface JobData extends RunJob {
  /** Set when a worker handed the run back at shutdown. */
  readonly handedBack?: boolean;
  /** The stalled count already accounted for by a hand-back, so a later stall is told apart. */
  readonly stallsSeen?: number;
}

export interface BullRunQueueOptions {
  /** REDIS_URL: BullMQ opens its own connections from it (its blocking worker connection among them). */
  readonly url: string;
  /** Key prefix of the queue, so several deployments can share one Redis. */
  readonly prefix: string;
  /** For cancel marks and PUBLISH. */
  readonly commands: Redis;
  /** A dedicated connection for SUBSCRIBE to cancel requests. */
  readonly subscriber: Redis;
  /** Runs one worker executes at once. */
  readonly concurrency: number;
  /** The job lock: a worker that stops renewing it for this long has lost the run. */
  readonly lockDurationMs: number;
  /** How often workers look for runs whose lock lapsed. */
  readonly stalledIntervalMs: number;
  /** Times a run may lose its worker and be taken again; BullMQ fails it one loss later. */
  readonly maxWorkersLost: number;
  /** Reports what BullMQ reports outside any run (connection errors). */
  readonly onError: (error: unknown) => void;
}

/**
 * The run queue on BullMQ (docs/scaling.md): `jobId` = run id, the job lock is the run's lease and the
 * stalled-job check its crash detector. Cancel requests travel on a Redis channel and are also
 * remembered in a key, so a worker that takes the run later still sees them.
 */
export const createBullRunQueue = async (options: BullRunQueueOptions): Promise<RunQueue> => {
  const connection = { url: options.url, maxRetriesPerRequest: null };
  const queue = new Queue<JobData>(RUN_QUEUE_NAME, { connection, prefix: options.prefix });
  queue.on("error", options.onError);
  const cancelChannel = `${options.prefix}:${RUN_QUEUE_NAME}:cancel`;
  const cancelMark = (runId: string) => `${options.prefix}:${RUN_QUEUE_NAME}:cancelled:${runId}`;
  const local = new Map<string, AbortController>();
  let worker: Worker<JobData> | undefined;

  const onCancel = (channel: string, runId: string) => {
    if (channel === cancelChannel) local.get(runId)?.abort();
  };
  options.subscriber.on("message", onCancel);
  await options.subscriber.subscribe(cancelChannel);

  const redeliveryOf = (job: Job<JobData>): Pick<RunDelivery, "redelivery" | "workersLost"> => {
    const workersLost = job.stalledCounter;
    if (workersLost > (job.data.stallsSeen ?? 0)) return { redelivery: "WORKER_LOST", workersLost };
    return { redelivery: job.data.handedBack ? "WORKER_SHUTDOWN" : null, workersLost };
  };

  const process = (handler: RunHandler) => async (job: Job<JobData>, token?: string) => {
    const runId = job.data.runId;
    const cancel = new AbortController();
    local.set(runId, cancel);
    try {
      // A cancel that came before this worker took the run; checked alongside the run's start, sent
      // once the handler's first synchronous steps (taking the run) are done, so that the check's
      // socket write does not delay them. Not sent if the delivery ended already.
      setImmediate(() => {
        if (local.get(runId) !== cancel) return;
        void options.commands.exists(cancelMark(runId)).then(
          (marked) => marked === 1 && cancel.abort(),
          (e: unknown) => options.onError(e),
        );
      });
      const outcome = await handler({ job: job.data, ...redeliveryOf(job), cancelled: cancel.signal });
      if (outcome === "handBack") {
        await job.updateData({ ...job.data, handedBack: true, stallsSeen: job.stalledCounter });
        await job.moveToWait(token);
        // Tells BullMQ the job was moved on purpose, neither completed nor failed.
        throw new WaitingError();
      }
    } finally {
      // A continuation of the run may have taken its place already.
      if (local.get(runId) === cancel) local.delete(runId);
    }
  };

  return {
    async enqueue(job) {
      await queue.add(RUN_QUEUE_NAME, job, {
        jobId: jobKey(job),
        // Gone once done (the run itself is in the store), so that a resumed run can be queued again.
        removeOnComplete: true,
        removeOnFail: true,
      });
    },
    async cancel(runId) {
      await options.commands.set(cancelMark(runId), "1", "EX", CANCEL_MARK_TTL_SECONDS);
      // A waiting job is removed; an active one is locked by its worker and stays (0).
      if ((await queue.remove(runId)) === 1) return "removed";
      await options.commands.publish(cancelChannel, runId);
      return "signalled";
    },
    async work(handler) {
      worker = new Worker<JobData>(RUN_QUEUE_NAME, process(handler), {
        connection,
        prefix: options.prefix,
        concurrency: options.concurrency,
        lockDuration: options.lockDurationMs,
        stalledInterval: options.stalledIntervalMs,
        // One more than the runs' own limit, so the orchestrator (not BullMQ) records the run's end.
        maxStalledCount: options.maxWorkersLost + 1,
      });
      worker.on("error", options.onError);
      await worker.waitUntilReady();
    },
    activeHere: () => local.size,
    async depth() {
      const counts = await queue.getJobCounts("wait", "prioritized", "delayed", "active");
      return {
        waiting: (counts.wait ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0),
        active: counts.active ?? 0,
      };
    },
    async stopWorking() {
      await worker?.close();
    },
    async close() {
      options.subscriber.off("message", onCancel);
      await options.subscriber.unsubscribe(cancelChannel).catch(() => undefined);
      await worker?.close();
      await queue.close();
    },
  };
};
