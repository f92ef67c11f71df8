import type { Redis } from "ioredis";
import type { TokenQuota } from "../../ports/token-quota.js";

/**
 * How long a day's counter is kept: past the end of its UTC day wherever the day is read from, then
 * Redis drops it. @default 2 days
 */
export const TOKEN_QUOTA_TTL_MS = 172_800_000;

/**
 * Atomic add-unless-above-limit on the tenant's counter for the day. KEYS[1] counter; ARGV: tokens,
 * limit, ttl. Returns {1 if granted else 0, counter before}.
 */
const RESERVE = `
local counted = tonumber(redis.call('GET', KEYS[1]) or '0')
if counted + tonumber(ARGV[1]) > tonumber(ARGV[2]) then
  return {0, counted}
end
redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, counted}
`;

/** INCRBY that keeps the counter's expiry (a counter created here gets one). KEYS[1]; ARGV: delta, ttl. */
const ADJUST = `
redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1
`;

/**
 * Token quotas in Redis, shared by every instance (docs/reviews-and-budgets.md): one integer key per tenant per UTC
 * day, changed only by Lua scripts (atomic), with a TTL so that old days disappear by themselves.
 */
export const createRedisTokenQuota = (options: {
  readonly redis: Redis;
  readonly prefix: string;
}): TokenQuota => {
  const { redis } = options;
  const key = (tenantId: string, day: string) => `${options.prefix}:tokens:${day}:${tenantId}`;
  return {
    async reserve(tenantId, day, tokens, limit) {
      const [granted, counted] = (await redis.eval(
        RESERVE,
        1,
        key(tenantId, day),
        tokens,
        limit,
        TOKEN_QUOTA_TTL_MS,
      )) as [number, number];
      return { granted: granted === 1, counted };
    },
    async adjust(tenantId, day, delta) {
      if (delta === 0) return;
      await redis.eval(ADJUST, 1, key(tenantId, day), delta, TOKEN_QUOTA_TTL_MS);
    },
    async counted(tenantId, day) {
      return Number((await redis.get(key(tenantId, day))) ?? 0);
    },
  };
};
