/**
 * Retry policy of the OpenAI adapter: exponential backoff with full jitter, Retry-After parsing and
 * an abortable sleep. Pure apart from `defaultRetryTiming`, so the arithmetic is unit-tested directly.
 */

/**
 * Retries after the first attempt, so a call makes at most `maxRetries + 1` requests.
 * @default 3
 */
export const DEFAULT_MAX_RETRIES = 3;
/**
 * Backoff cap for the first retry; it doubles with every further retry.
 * @default 500
 */
export const DEFAULT_BASE_DELAY_MS = 500;
/**
 * Upper bound of the exponential backoff, before jitter.
 * @default 8_000
 */
export const DEFAULT_MAX_DELAY_MS = 8_000;
/**
 * Longest wait a server's Retry-After (or retry-after-ms) header can impose; longer asks are capped.
 * @default 30_000
 */
export const DEFAULT_MAX_RETRY_AFTER_MS = 30_000;
/**
 * "full": the wait is uniform in [0, backoff) (AWS "full jitter"), which spreads out clients that
 * failed together. "none": the wait is exactly the backoff.
 * @default "full"
 */
export const DEFAULT_JITTER: Jitter = "full";

export type Jitter = "full" | "none";

export interface RetryPolicy {
  /** @default DEFAULT_MAX_RETRIES (3) */
  readonly maxRetries: number;
  /** @default DEFAULT_BASE_DELAY_MS (500) */
  readonly baseDelayMs: number;
  /** @default DEFAULT_MAX_DELAY_MS (8_000) */
  readonly maxDelayMs: number;
  /** @default DEFAULT_JITTER ("full") */
  readonly jitter: Jitter;
  /** @default DEFAULT_MAX_RETRY_AFTER_MS (30_000) */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxRetries: DEFAULT_MAX_RETRIES,
  baseDelayMs: DEFAULT_BASE_DELAY_MS,
  maxDelayMs: DEFAULT_MAX_DELAY_MS,
  jitter: DEFAULT_JITTER,
  maxRetryAfterMs: DEFAULT_MAX_RETRY_AFTER_MS,
});

/** Fills in the defaults and rejects nonsensical values (negative, non-finite, non-integer counts). */
export const resolveRetryPolicy = (partial: Partial<RetryPolicy> = {}): RetryPolicy => {
  const policy = { ...DEFAULT_RETRY_POLICY, ...partial };
  if (!Number.isInteger(policy.maxRetries) || policy.maxRetries < 0) {
    throw new RangeError(`retry.maxRetries must be a non-negative integer, got ${policy.maxRetries}`);
  }
  for (const key of ["baseDelayMs", "maxDelayMs", "maxRetryAfterMs"] as const) {
    const v = policy[key];
    if (!Number.isFinite(v) || v < 0)
      throw new RangeError(`retry.${key} must be a finite number ≥ 0, got ${v}`);
  }
  return Object.freeze(policy);
};

/** Statuses worth another attempt: rate limiting and server errors. Every other 4xx is final. */
export const isRetryableStatus = (status: number): boolean =>
  status === 429 || (status >= 500 && status <= 599);

/**
 * The backoff before retry number `retry` (1 = the first retry): min(maxDelay, base·2^(retry−1)),
 * then jittered. `random` returns a number in [0, 1).
 */
export const backoffDelayMs = (policy: RetryPolicy, retry: number, random: () => number): number => {
  const exponent = Math.max(0, retry - 1);
  // 2 ** exponent overflows to Infinity for huge retry numbers; min() keeps the result finite.
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exponent);
  if (policy.jitter === "none") return ceiling;
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(r * ceiling);
};

/**
 * Parses a Retry-After value: delay-seconds ("1", "1.5") or an HTTP-date. Returns the wait in ms
 * (a date in the past gives 0), or undefined when the value is neither.
 */
export const parseRetryAfter = (value: string | null | undefined, nowMs: number): number | undefined => {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  // Every HTTP-date form names a month; without this, Date.parse would also accept "-1" or "2026".
  const at = /[a-z]{3}/i.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
};

/** Parses OpenAI's non-standard `retry-after-ms` header (a number of milliseconds). */
export const parseRetryAfterMs = (value: string | null | undefined): number | undefined => {
  if (value === null || value === undefined || !/^\s*\d+(\.\d+)?\s*$/.test(value)) return undefined;
  return Math.round(Number(value));
};

/**
 * The wait before retry number `retry`: the server's ask (capped at maxRetryAfterMs) when it gave
 * one, else the jittered backoff.
 */
export const retryDelayMs = (
  policy: RetryPolicy,
  retry: number,
  serverAskMs: number | undefined,
  random: () => number,
): number =>
  serverAskMs === undefined
    ? backoffDelayMs(policy, retry, random)
    : Math.min(serverAskMs, policy.maxRetryAfterMs);

/** The clock, sleep and randomness the retry loop uses; injectable so tests are fast and deterministic. */
export interface RetryTiming {
  /** Wall-clock time in ms, for HTTP-date Retry-After values. */
  now(): number;
  /** Resolves after `ms`; rejects with `signal.reason` as soon as the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Uniform in [0, 1), for jitter. */
  random(): number;
}

/** An abortable setTimeout: rejects with `signal.reason` at once when the signal aborts. */
export const abortableSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });

export const defaultRetryTiming: RetryTiming = Object.freeze({
  now: () => Date.now(),
  sleep: abortableSleep,
  random: () => Math.random(),
});
