import type { Redis } from "ioredis";
import { redactUrl, StartupError } from "./startup-error.js";

/** How long startup waits for Redis before giving up. @default 5 s */
export const REDIS_CONNECT_TIMEOUT_MS = 5_000;

/**
 * A client connected to REDIS_URL, or a StartupError naming it. The Redis client library is loaded
 * here, on first use, so a server without Redis never loads it (nor BullMQ, which only its callers
 * import the same way).
 */
export const connectRedis = async (url: string): Promise<Redis> => {
  const { Redis } = await import("ioredis");
  const client = new Redis(url, { lazyConnect: true, connectTimeout: REDIS_CONNECT_TIMEOUT_MS });
  try {
    await client.connect();
    return client;
  } catch (e) {
    client.disconnect();
    throw new StartupError(`Cannot connect to Redis at REDIS_URL (${redactUrl(url)}): ${String(e)}`);
  }
};
