import { createInProcessRunQueue } from "../adapters/queue/in-process-queue.js";
import { createFlexibleRateLimiter } from "../adapters/rate-limit/flexible-rate-limiter.js";
import { createMemoryRunSlots } from "../adapters/rate-limit/memory-run-slots.js";
import { createMemoryTokenQuota } from "../adapters/rate-limit/memory-token-quota.js";
import type { Config } from "../config.js";
import type { RateLimiter } from "../ports/rate-limiter.js";
import type { RunQueue } from "../ports/run-queue.js";
import type { RunSlots } from "../ports/run-slots.js";
import type { TokenQuota } from "../ports/token-quota.js";
import { connectRedis } from "./redis.js";

/** Where runs wait and what limits them: per process without Redis, cluster-wide with it. */
export interface Execution {
  readonly queue: RunQueue;
  readonly slots: RunSlots;
  readonly rateLimiter: RateLimiter;
  /** Where the tenants' daily token quota is counted (VEX_TENANT_TOKENS_PER_DAY). */
  readonly tokenQuota: TokenQuota;
  close(): Promise<void>;
}

/**
 * The run queue, the per-tenant run slots, the rate limiter and the token quota counters: BullMQ and Redis counters shared by
 * every instance when REDIS_URL is set (docs/scaling.md), in-process otherwise.
 */
export const openExecution = async (config: Config, onError: (e: unknown) => void): Promise<Execution> => {
  const rate = { perMinute: config.limits.rateLimitPerMinute, burst: config.limits.rateLimitBurst };
  const { worker } = config;
  if (config.redisUrl === undefined) {
    return {
      queue: createInProcessRunQueue({ concurrency: worker.concurrency }),
      slots: createMemoryRunSlots(),
      rateLimiter: createFlexibleRateLimiter(rate),
      tokenQuota: createMemoryTokenQuota(),
      close: async () => {},
    };
  }
  // Loaded only by servers that use Redis.
  const [{ createBullRunQueue }, { createRedisRunSlots }, { createRedisTokenQuota }] = await Promise.all([
    import("../adapters/queue/bullmq-queue.js"),
    import("../adapters/rate-limit/redis-run-slots.js"),
    import("../adapters/rate-limit/redis-token-quota.js"),
  ]);
  const commands = await connectRedis(config.redisUrl);
  const subscriber = await connectRedis(config.redisUrl);
  const queue = await createBullRunQueue({
    url: config.redisUrl,
    prefix: worker.redisPrefix,
    commands,
    subscriber,
    concurrency: worker.concurrency,
    lockDurationMs: worker.lockMs,
    stalledIntervalMs: worker.stalledIntervalMs,
    maxWorkersLost: worker.maxWorkersLost,
    onError,
  });
  return {
    queue,
    slots: createRedisRunSlots({ redis: commands, prefix: worker.redisPrefix }),
    tokenQuota: createRedisTokenQuota({ redis: commands, prefix: worker.redisPrefix }),
    rateLimiter: createFlexibleRateLimiter({
      ...rate,
      redis: { client: commands, prefix: worker.redisPrefix },
    }),
    close: async () => {
      await queue.close();
      await Promise.all([commands.quit(), subscriber.quit()]);
    },
  };
};
