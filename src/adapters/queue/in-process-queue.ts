import {
  type DeliveryOutcome,
  jobKey,
  type QueueDepth,
  type RunHandler,
  type RunJob,
  type RunQueue,
} from "../../ports/run-queue.js";

interface Active {
  readonly runId: string;
  readonly cancel: AbortController;
  readonly done: Promise<DeliveryOutcome>;
}

/**
 * The run queue of one process (no Redis): runs execute here, at most `concurrency` at once, the
 * rest wait in order. Nothing outlives the process; what was RUNNING is enqueued again at the next
 * start from the store (see the orchestrator's `requeueUnfinished`).
 */
export const createInProcessRunQueue = (options: { concurrency: number }): RunQueue => {
  const waiting: RunJob[] = [];
  const active = new Map<string, Active>();
  let handler: RunHandler | undefined;
  let working = false;

  const pump = () => {
    while (working && handler !== undefined && active.size < options.concurrency) {
      const job = waiting.shift();
      if (job === undefined) return;
      const cancel = new AbortController();
      const run = handler;
      const done = Promise.resolve()
        .then(() => run({ job, redelivery: null, workersLost: 0, cancelled: cancel.signal }))
        // The handler reports its own failures; a rejection here must not stop the queue.
        .catch((): DeliveryOutcome => "done")
        .finally(() => {
          active.delete(jobKey(job));
          pump();
        });
      active.set(jobKey(job), { runId: job.runId, cancel, done });
    }
  };

  return {
    async enqueue(job) {
      const key = jobKey(job);
      if (active.has(key) || waiting.some((j) => jobKey(j) === key)) return;
      waiting.push(job);
      pump();
    },
    async cancel(runId) {
      const at = waiting.findIndex((j) => j.runId === runId);
      if (at >= 0) {
        waiting.splice(at, 1);
        return "removed";
      }
      for (const a of active.values()) if (a.runId === runId) a.cancel.abort();
      return "signalled";
    },
    async work(h) {
      handler = h;
      working = true;
      pump();
    },
    activeHere: () => active.size,
    depth: async (): Promise<QueueDepth> => ({ waiting: waiting.length, active: active.size }),
    async stopWorking() {
      working = false;
      await Promise.all([...active.values()].map((a) => a.done));
    },
    async close() {
      working = false;
      waiting.length = 0;
    },
  };
};
