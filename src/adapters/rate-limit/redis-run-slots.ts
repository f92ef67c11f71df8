import type { Redis } from "ioredis";
import type { RunSlots } from "../../ports/run-slots.js";

/**
 * How long a slot is kept at most: a safety net for a run whose end was never recorded (its job
 * lost with a Redis that keeps nothing on disk). Longer than any run should take. @default 1 day
 */
export const RUN_SLOT_TTL_MS = 86_400_000;

/**
 * Atomic take-if-below-cap on a sorted set of the tenant's runs (score: when taken). Expired
 * members are dropped first; a run that holds a slot keeps it (its score is refreshed).
 * KEYS[1] set; ARGV: runId, cap, now, ttl. Returns 1 when the run holds a slot.
 */
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[3]) - tonumber(ARGV[4]))
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == false and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`;

/**
 * Run slots in Redis, shared by every instance (docs/scaling.md): one sorted set per tenant, changed
 * only by a Lua script (atomic), so two instances admitting at once never exceed the cap.
 */
export const createRedisRunSlots = (options: {
  readonly redis: Redis;
  readonly prefix: string;
  readonly now?: () => number;
}): RunSlots => {
  const { redis } = options;
  const now = options.now ?? Date.now;
  const key = (tenantId: string) => `${options.prefix}:run-slots:${tenantId}`;
  return {
    async acquire(tenantId, runId, cap) {
      const taken = await redis.eval(ACQUIRE, 1, key(tenantId), runId, cap, now(), RUN_SLOT_TTL_MS);
      return taken === 1;
    },
    async release(tenantId, runId) {
      await redis.zrem(key(tenantId), runId);
    },
    held: (tenantId) => redis.zcard(key(tenantId)),
  };
};
