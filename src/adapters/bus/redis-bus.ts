import { deserialize, serialize } from "node:v8";
import type { Redis } from "ioredis";
import type { BusTopic, BusTopics, EventBus } from "../../ports/event-bus.js";
import { createSubscriptionQueue, type SubscriptionQueue } from "./subscription-queue.js";

/** Channel name prefix, so several deployments can share one Redis. @default "vex" */
export const DEFAULT_CHANNEL_PREFIX = "vex";

export interface RedisEventBusOptions {
  /** A connection for PUBLISH. */
  readonly publisher: Redis;
  /** A dedicated connection for SUBSCRIBE (Redis puts it in subscriber mode). */
  readonly subscriber: Redis;
  readonly prefix?: string;
  readonly subscriberBuffer?: number;
}

/**
 * The event bus across instances: every instance publishes to Redis channels and delivers what
 * it receives to its own subscribers. Messages are v8-serialised (Dates survive). A channel is
 * subscribed while at least one local subscriber listens to it. The clients are injected; whoever
 * created them closes them.
 */
export const createRedisEventBus = (options: RedisEventBusOptions): EventBus => {
  const prefix = options.prefix ?? DEFAULT_CHANNEL_PREFIX;
  const channels = new Map<string, { queues: Set<SubscriptionQueue<unknown>>; ready: Promise<void> }>();
  const channelOf = (topic: BusTopic, id: string) => `${prefix}:${topic}:${id}`;

  const onMessage = (channel: Buffer, payload: Buffer) => {
    const entry = channels.get(channel.toString());
    if (!entry) return;
    const message = deserialize(payload) as unknown;
    for (const q of entry.queues) q.push(message);
  };
  options.subscriber.on("messageBuffer", onMessage);

  return {
    publish: async (topic, id, message) => {
      await options.publisher.publish(channelOf(topic, id), serialize(message));
    },
    subscribe: <T extends BusTopic>(topic: T, id: string) => {
      const name = channelOf(topic, id);
      let entry = channels.get(name);
      if (!entry) {
        const ready = options.subscriber.subscribe(name).then(() => undefined);
        entry = { queues: new Set(), ready };
        channels.set(name, entry);
      }
      const current = entry;
      const queue: SubscriptionQueue<BusTopics[T]> = createSubscriptionQueue<BusTopics[T]>({
        ready: current.ready,
        buffer: options.subscriberBuffer,
        onClose: () => {
          current.queues.delete(queue as SubscriptionQueue<unknown>);
          if (current.queues.size === 0 && channels.get(name) === current) {
            channels.delete(name);
            void options.subscriber.unsubscribe(name).catch(() => undefined);
          }
        },
      });
      current.queues.add(queue as SubscriptionQueue<unknown>);
      return queue.subscription;
    },
    close: async () => {
      options.subscriber.off("messageBuffer", onMessage);
      for (const entry of channels.values()) for (const q of entry.queues) q.end();
      channels.clear();
    },
  };
};
