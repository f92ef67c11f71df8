import { randomUUID } from "node:crypto";
import { createRedisEventBus } from "../../src/adapters/bus/redis-bus.js";
import { connectRedis } from "../support/redis.js";
import { eventBusContract } from "./event-bus.contract.js";

eventBusContract({
  name: "redis (two instances)",
  create: async () => {
    const clients = await Promise.all([connectRedis(), connectRedis(), connectRedis(), connectRedis()]);
    const [pubA, subA, pubB, subB] = clients;
    if (!pubA || !subA || !pubB || !subB) throw new Error("unreachable");
    const prefix = `vex-test-${randomUUID()}`;
    const a = createRedisEventBus({ publisher: pubA, subscriber: subA, prefix });
    const b = createRedisEventBus({ publisher: pubB, subscriber: subB, prefix });
    return {
      a,
      b,
      destroy: async () => {
        await a.close();
        await b.close();
        for (const c of clients) c.disconnect();
      },
    };
  },
});
