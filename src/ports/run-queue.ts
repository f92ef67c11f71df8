import type { RunResumeReason } from "../domain/events.js";
import type { TraceCarrier } from "./tracing.js";

/** A run waiting to execute: what any worker needs to take it. */
export interface RunJob {
  readonly runId: string;
  readonly tenantId: string;
  /** When the run was enqueued (epoch ms), for the dispatch latency. */
  readonly enqueuedAt: number;
  /** Why a run that already started is enqueued again (a restart, a client's resume). */
  readonly resumeReason?: ResumeReason;
  /** Trace context of the request that queued the run: its spans join that trace on any worker. */
  readonly trace?: TraceCarrier;
  /**
   * Set when the run continues after a review decision (the review's id): that delivery is a job of
   * its own, because the run's previous job (the one that parked it) may still be finishing.
   */
  readonly continuation?: string;
}

/** The queue's identity of a job: the run id, or the run id and its continuation. */
export const jobKey = (job: Pick<RunJob, "runId" | "continuation">): string =>
  job.continuation === undefined ? job.runId : `${job.runId}.${job.continuation}`;

/** Why a run that had already started is taken again. */
export type ResumeReason = RunResumeReason;

/** One delivery of a run to a worker. */
export interface RunDelivery {
  readonly job: RunJob;
  /**
   * Why the run is delivered again, when the queue knows: WORKER_LOST after its worker died,
   * WORKER_SHUTDOWN after a worker handed it back; null on its first delivery.
   */
  readonly redelivery: ResumeReason | null;
  /** Times the run's worker was lost so far (this delivery included). */
  readonly workersLost: number;
  /** Aborted when the run is cancelled from any instance (see RunQueue.cancel). */
  readonly cancelled: AbortSignal;
}

/**
 * What a handler reports: `done` when the run reached its end (or had nothing to do), `handBack`
 * when the worker stopped it unfinished for another worker to continue.
 */
export type DeliveryOutcome = "done" | "handBack";
export type RunHandler = (delivery: RunDelivery) => Promise<DeliveryOutcome>;

/** What the queue holds, for /metrics. */
export interface QueueDepth {
  readonly waiting: number;
  readonly active: number;
}

/**
 * The queue that runs the runs (docs/scaling.md). Any instance enqueues; every worker takes runs from
 * it. A run whose worker dies is delivered again to another worker; a run handed back at shutdown
 * too. Delivery is at least once: handlers look at the stored run to decide what is left to do.
 */
export interface RunQueue {
  /** Adds a run; adding a run that is already queued or executing does nothing. */
  enqueue(job: RunJob): Promise<void>;
  /**
   * Cancels a run wherever it is: a run still waiting is removed (`removed`: no worker will take
   * it); an executing run's worker sees `cancelled` aborted (`signalled`).
   */
  cancel(runId: string): Promise<"removed" | "signalled">;
  /** Starts taking runs with `handler` (the worker role). */
  work(handler: RunHandler): Promise<void>;
  /** Runs this process is executing now. */
  activeHere(): number;
  depth(): Promise<QueueDepth>;
  /** Stops taking runs and waits for the handlers in flight to return (they are told by their owner). */
  stopWorking(): Promise<void>;
  close(): Promise<void>;
}
