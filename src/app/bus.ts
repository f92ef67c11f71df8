import { createMemoryEventBus } from "../adapters/bus/memory-bus.js";
import type { Config } from "../config.js";
import type { EventBus } from "../ports/event-bus.js";
import { connectRedis } from "./redis.js";

/** The event bus: Redis across instances when REDIS_URL is set, else in-process. */
export const openBus = async (config: Config): Promise<{ bus: EventBus; close(): Promise<void> }> => {
  const url = config.redisUrl;
  const subscriberBuffer = config.subscriberBuffer;
  if (url === undefined) return { bus: createMemoryEventBus({ subscriberBuffer }), close: async () => {} };
  const { createRedisEventBus } = await import("../adapters/bus/redis-bus.js");
  const publisher = await connectRedis(url);
  const subscriber = await connectRedis(url);
  return {
    bus: createRedisEventBus({ publisher, subscriber, subscriberBuffer }),
    close: async () => {
      await Promise.all([publisher.quit(), subscriber.quit()]);
    },
  };
};
