import { VexError } from "./errors.js";

/** How a watch reconnects after its connection drops. */
export interface RetryOptions {
  /** Consecutive failed attempts (no new event in between) before giving up. Default 10. */
  readonly attempts?: number;
  /** First delay; it doubles per consecutive failure, with ±25 % jitter. Default 200 ms. */
  readonly baseDelayMs?: number;
  /** Upper bound of one delay. Default 5,000 ms. */
  readonly maxDelayMs?: number;
}

export const DEFAULT_RETRY = { attempts: 10, baseDelayMs: 200, maxDelayMs: 5_000 } as const;

/** Passed to `onReconnect` before each resubscription. */
export interface ReconnectInfo {
  /** 1 for the first retry after a failure, 2 for the next without progress in between, … */
  readonly attempt: number;
  /** The resubscription asks for the events after this seq: the last one delivered. */
  readonly afterSeq: number;
  /** How long it waits before resubscribing. */
  readonly delayMs: number;
  /** Why the previous subscription ended. */
  readonly reason: string;
}

/** What a failed subscription means: give up with this error, or retry. */
export type Failure = VexError | { readonly retry: string; readonly unreachable: boolean };

export interface ResumeOptions<E> {
  /** Deliver only events after this seq. Default 0 (from the start). */
  readonly afterSeq?: number;
  readonly retry?: RetryOptions;
  /** Stops the iteration (it ends without error). */
  readonly signal?: AbortSignal;
  readonly onReconnect?: (info: ReconnectInfo) => void;
  /** True for the event after which the stream ends (RunFinished). */
  readonly isLast: (event: E) => boolean;
  /** Sorts a subscription's failure into fatal or retryable. */
  readonly classify: (error: unknown) => Failure;
  /** The error thrown when the retries are used up. */
  readonly giveUp: (reason: string, unreachable: boolean, attempts: number) => VexError;
  /** Delay function (tests pass a fast one). Default: a timer that the signal cancels. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Jitter source in [0,1). Default Math.random. */
  readonly random?: () => number;
}

/** One subscription attempt: the events after `afterSeq`, ending when the subscription completes. */
export type Subscribe<E> = (afterSeq: number) => AsyncIterator<E>;

const abortableSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });

/**
 * Events of a seq-numbered stream that survives dropped subscriptions: after a retryable failure it
 * resubscribes with afterSeq = the last delivered seq, and it delivers each seq exactly once and in
 * order — it drops what it has already delivered and, should seq ever jump, resubscribes to fill the
 * gap rather than deliver out of order. It ends after the last event, on abort, or with a VexError.
 */
export async function* resumable<E extends { readonly seq: number }>(
  subscribe: Subscribe<E>,
  options: ResumeOptions<E>,
): AsyncGenerator<E, void, undefined> {
  const attempts = options.retry?.attempts ?? DEFAULT_RETRY.attempts;
  const baseDelayMs = options.retry?.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs;
  const maxDelayMs = options.retry?.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs;
  const sleep = options.sleep ?? abortableSleep;
  const random = options.random ?? Math.random;
  const { signal } = options;
  let lastSeq = options.afterSeq ?? 0;
  let failures = 0;

  while (!signal?.aborted) {
    let reason = "the subscription ended before the run finished";
    let unreachable = false;
    const events = subscribe(lastSeq);
    try {
      for (;;) {
        const next = await events.next();
        if (signal?.aborted) return;
        if (next.done) break;
        const event = next.value;
        if (event.seq <= lastSeq) continue;
        if (event.seq !== lastSeq + 1) {
          reason = `seq jumped from ${lastSeq} to ${event.seq}`;
          break;
        }
        lastSeq = event.seq;
        failures = 0;
        yield event;
        if (options.isLast(event)) return;
      }
    } catch (error) {
      if (signal?.aborted) return;
      const failure = options.classify(error);
      if (failure instanceof VexError) throw failure;
      reason = failure.retry;
      unreachable = failure.unreachable;
    } finally {
      await events.return?.()?.catch(() => undefined);
    }
    if (signal?.aborted) return;
    failures++;
    if (failures > attempts) throw options.giveUp(reason, unreachable, attempts);
    const exp = Math.min(maxDelayMs, baseDelayMs * 2 ** (failures - 1));
    const delayMs = Math.round(Math.min(maxDelayMs, exp * (0.75 + 0.5 * random())));
    options.onReconnect?.({ attempt: failures, afterSeq: lastSeq, delayMs, reason });
    await sleep(delayMs, signal);
  }
}
