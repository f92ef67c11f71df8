/** Descriptive statistics of a sample of measurements (all in one unit). */
export interface Summary {
  readonly n: number;
  readonly min: number;
  readonly mean: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/** The p-th percentile (0–100) of an ascending sample, by linear interpolation between closest ranks. */
export const percentile = (sorted: ArrayLike<number>, p: number): number => {
  if (sorted.length === 0) return Number.NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (rank - lo);
};

export const mean = (xs: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i] as number;
  return xs.length === 0 ? Number.NaN : s / xs.length;
};

export const summarise = (xs: ArrayLike<number>): Summary => {
  const sorted = Float64Array.from(xs as ArrayLike<number>).sort();
  return {
    n: sorted.length,
    min: sorted.length === 0 ? Number.NaN : (sorted[0] as number),
    mean: mean(sorted),
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] as number),
  };
};

/** A monotonic clock in milliseconds with sub-millisecond resolution. */
export const nowMs = (): number => performance.now();

/** Wall-clock epoch milliseconds with sub-millisecond resolution, comparable across threads and processes. */
export const epochMs = (): number => performance.timeOrigin + performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `step` until `maxCount` calls or `maxMs` have passed, whichever comes first (both bounds are
 * mandatory: no benchmark loop may run unbounded). Returns each call's duration in ms.
 */
export const boundedLoop = async (
  bounds: { readonly maxCount: number; readonly maxMs: number },
  step: (i: number) => Promise<unknown> | unknown,
): Promise<number[]> => {
  const durations: number[] = [];
  const start = nowMs();
  for (let i = 0; i < bounds.maxCount && nowMs() - start < bounds.maxMs; i++) {
    const t0 = nowMs();
    await step(i);
    durations.push(nowMs() - t0);
  }
  return durations;
};

/**
 * A closed loop with `concurrency` workers each calling `step` back to back until `maxCount` calls in
 * total have started or `maxMs` has passed. Returns each call's duration and the loop's elapsed ms.
 */
export const closedLoop = async (
  bounds: { readonly concurrency: number; readonly maxCount: number; readonly maxMs: number },
  step: (i: number) => Promise<unknown>,
): Promise<{ durations: number[]; elapsedMs: number }> => {
  const durations: number[] = [];
  const start = nowMs();
  let started = 0;
  const worker = async () => {
    while (started < bounds.maxCount && nowMs() - start < bounds.maxMs) {
      const i = started++;
      const t0 = nowMs();
      await step(i);
      durations.push(nowMs() - t0);
    }
  };
  await Promise.all(Array.from({ length: bounds.concurrency }, worker));
  return { durations, elapsedMs: nowMs() - start };
};

/** Rejects after `ms` with a message naming `what`, unless `p` settles first. */
export const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
};
