/** What a rate limiter answers: allowed (with a way to give the unit back) or when to retry. */
export type RateVerdict =
  | {
      readonly allowed: true;
      /** Gives the unit back, for an operation refused for another reason after all. */
      refund(): Promise<void>;
    }
  | { readonly allowed: false; readonly retryAfterMs: number };

/** Admission by rate: one call per attempted operation. */
export interface RateLimiter {
  /** Takes one unit for `key`; when none is left, says how long until one is. */
  consume(key: string): Promise<RateVerdict>;
}
