import { Redis } from "ioredis";
import { createMemoryEventBus } from "../adapters/bus/memory-bus.js";
import { createRedisEventBus } from "../adapters/bus/redis-bus.js";
import type { Config } from "../config.js";
import type { EventBus } from "../ports/event-bus.js";
import { redactUrl, StartupError } from "./startup-error.js";

/** How long startup waits for Redis before giving up. @default 5 s */
export const REDIS_CONNECT_TIMEOUT_MS = 5_000;

/** The event bus: Redis across instances when REDIS_URL is set, else in-process. */
export const openBus = async (config: Config): Promise<{ bus: EventBus; close(): Promise<void> }> => {
  const url = config.redisUrl;
  const subscriberBuffer = config.subscriberBuffer;
  if (url === undefined) return { bus: createMemoryEventBus({ subscriberBuffer }), close: async () => {} };
  const connect = async () => {
    const client = new Redis(url, { lazyConnect: true, connectTimeout: REDIS_CONNECT_TIMEOUT_MS });
    try {
      await client.connect();
      return client;
    } catch (e) {
      client.disconnect();
      throw new StartupError(`Cannot connect to Redis at REDIS_URL (${redactUrl(url)}): ${String(e)}`);
    }
  };
  const publisher = await connect();
  const subscriber = await connect();
  return {
    bus: createRedisEventBus({ publisher, subscriber, subscriberBuffer }),
    close: async () => {
      await Promise.all([publisher.quit(), subscriber.quit()]);
    },
  };
};
