import type { Redis } from "ioredis";
import {
  BurstyRateLimiter,
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from "rate-limiter-flexible";
import type { RateLimiter } from "../../ports/rate-limiter.js";

const SECONDS_PER_MINUTE = 60;
/** Window over which the burst allowance refills. @default 10 minutes */
export const BURST_WINDOW_SECONDS = 600;

export interface FlexibleRateLimiterOptions {
  readonly perMinute: number;
  readonly burst: number;
  /**
   * Where the counters live: absent, in this process; with Redis, shared by every instance that
   * uses the same Redis and prefix, so the limit holds across the cluster.
   */
  readonly redis?: { readonly client: Redis; readonly prefix: string };
}

/**
 * A token-bucket-like limiter from rate-limiter-flexible: a sustained rate of `perMinute` units per
 * key, plus a burst allowance of `burst` extra units that refills over BURST_WINDOW_SECONDS.
 */
export const createFlexibleRateLimiter = (options: FlexibleRateLimiterOptions): RateLimiter => {
  const store = (name: string, points: number, duration: number): RateLimiterAbstract =>
    options.redis === undefined
      ? new RateLimiterMemory({ points, duration })
      : new RateLimiterRedis({
          storeClient: options.redis.client,
          keyPrefix: `${options.redis.prefix}:rate:${name}`,
          points,
          duration,
        });
  const sustained = store("sustained", options.perMinute, SECONDS_PER_MINUTE);
  const burst = options.burst > 0 ? store("burst", options.burst, BURST_WINDOW_SECONDS) : undefined;
  const limiter = burst === undefined ? sustained : new BurstyRateLimiter(sustained, burst);
  return {
    async consume(key) {
      try {
        const taken = await limiter.consume(key);
        // Past the sustained rate the unit came from the burst allowance: it goes back there.
        const from = burst !== undefined && taken.consumedPoints > options.perMinute ? burst : sustained;
        return {
          allowed: true,
          refund: async () => {
            await from.reward(key, 1);
          },
        };
      } catch (e) {
        if (e instanceof RateLimiterRes) return { allowed: false, retryAfterMs: e.msBeforeNext };
        throw e;
      }
    },
  };
};
