import { Redis } from "ioredis";

/** REDIS_URL, else the machine's Redis on 127.0.0.1:6379. */
export const redisUrl = (): string => process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/**
 * A Redis connection for tests. When CI=true a Redis that cannot be reached fails the run; it
 * never skips.
 */
export const connectRedis = async (): Promise<Redis> => {
  const client = new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2_000 });
  try {
    await client.connect();
    await client.ping();
    return client;
  } catch (e) {
    client.disconnect();
    throw new Error(
      `Redis is required for these tests and is not reachable at ${redisUrl()} (set REDIS_URL).`,
      {
        cause: e,
      },
    );
  }
};
