import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import type { RateLimiter } from "../../ports/rate-limiter.js";

const SECONDS_PER_MINUTE = 60;
/** Window over which the burst allowance refills. @default 10 minutes */
export const BURST_WINDOW_SECONDS = 600;

/**
 * A token-bucket-like limiter from rate-limiter-flexible: a sustained rate of `perMinute` units per
 * key, plus a burst allowance of `burst` extra units that refills over BURST_WINDOW_SECONDS. In
 * memory, so per process; a Redis-backed limiter plugs into the same port.
 */
export const createFlexibleRateLimiter = (options: { perMinute: number; burst: number }): RateLimiter => {
  const sustained = new RateLimiterMemory({ points: options.perMinute, duration: SECONDS_PER_MINUTE });
  const limiter =
    options.burst > 0
      ? new BurstyRateLimiter(
          sustained,
          new RateLimiterMemory({ points: options.burst, duration: BURST_WINDOW_SECONDS }),
        )
      : sustained;
  return {
    async consume(key) {
      try {
        await limiter.consume(key);
        return { allowed: true };
      } catch (e) {
        if (e instanceof RateLimiterRes) return { allowed: false, retryAfterMs: e.msBeforeNext };
        throw e;
      }
    },
  };
};
