import { randomUUID } from "node:crypto";
import { createFlexibleRateLimiter } from "../../src/adapters/rate-limit/flexible-rate-limiter.js";
import { createRedisRunSlots } from "../../src/adapters/rate-limit/redis-run-slots.js";
import { connectRedis } from "../support/redis.js";
import { admissionLimitsContract } from "./rate-limiter.contract.js";

admissionLimitsContract({
  name: "redis (two instances)",
  create: async (settings) => {
    const clients = [await connectRedis(), await connectRedis()] as const;
    const prefix = `vex-test-${randomUUID()}`;
    const limiter = (i: 0 | 1) =>
      createFlexibleRateLimiter({ ...settings, redis: { client: clients[i], prefix } });
    const slots = (i: 0 | 1) => createRedisRunSlots({ redis: clients[i], prefix });
    return {
      limiters: [limiter(0), limiter(1)],
      slots: [slots(0), slots(1)],
      destroy: async () => {
        const keys = await clients[0].keys(`${prefix}*`);
        if (keys.length > 0) await clients[0].del(...keys);
        for (const c of clients) c.disconnect();
      },
    };
  },
});
