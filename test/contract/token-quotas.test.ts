import { randomUUID } from "node:crypto";
import { expect, it } from "vitest";
import { createMemoryTokenQuota } from "../../src/adapters/rate-limit/memory-token-quota.js";
import {
  createRedisTokenQuota,
  TOKEN_QUOTA_TTL_MS,
} from "../../src/adapters/rate-limit/redis-token-quota.js";
import { connectRedis } from "../support/redis.js";
import { tokenQuotaContract } from "./token-quota.contract.js";

tokenQuotaContract({
  name: "memory",
  create: async () => {
    const quota = createMemoryTokenQuota();
    return { a: quota, b: quota, destroy: async () => {} };
  },
});

const prefix = `vex-test-${randomUUID()}`;

tokenQuotaContract({
  name: "redis (two instances)",
  create: async () => {
    const clients = await Promise.all([connectRedis(), connectRedis()]);
    const [ra, rb] = clients;
    if (!ra || !rb) throw new Error("unreachable");
    return {
      a: createRedisTokenQuota({ redis: ra, prefix }),
      b: createRedisTokenQuota({ redis: rb, prefix }),
      destroy: async () => {
        const keys = await ra.keys(`${prefix}:*`);
        if (keys.length > 0) await ra.del(...keys);
        for (const c of clients) c.disconnect();
      },
    };
  },
});

it("redis: a day's counter expires by itself", async () => {
  const redis = await connectRedis();
  const p = `vex-test-${randomUUID()}`;
  try {
    const quota = createRedisTokenQuota({ redis, prefix: p });
    await quota.reserve("t", "2026-12-02", 10, 100);
    const ttl = await redis.pttl(`${p}:tokens:2026-12-02:t`);
    expect(ttl).toBeGreaterThan(TOKEN_QUOTA_TTL_MS - 60_000);
    expect(ttl).toBeLessThanOrEqual(TOKEN_QUOTA_TTL_MS);
  } finally {
    await redis.del(`${p}:tokens:2026-12-02:t`);
    redis.disconnect();
  }
});
