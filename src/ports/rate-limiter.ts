/** Admission by rate: one call per attempted operation. */
export interface RateLimiter {
  /** Takes one unit for `key`; when none is left, says how long until one is. */
  consume(
    key: string,
  ): Promise<{ readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number }>;
}
