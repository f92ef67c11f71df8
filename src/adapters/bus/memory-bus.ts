import type { BusTopic, BusTopics, EventBus } from "../../ports/event-bus.js";
import { createSubscriptionQueue, type SubscriptionQueue } from "./subscription-queue.js";

/** The in-process event bus: the default when REDIS_URL is unset. One process sees only its own runs. */
export const createMemoryEventBus = (options: { subscriberBuffer?: number } = {}): EventBus => {
  const channels = new Map<string, Set<SubscriptionQueue<unknown>>>();
  const channel = (topic: BusTopic, id: string) => `${topic}:${id}`;
  return {
    publish: async (topic, id, message) => {
      for (const q of channels.get(channel(topic, id)) ?? []) q.push(message);
    },
    subscribe: <T extends BusTopic>(topic: T, id: string) => {
      const name = channel(topic, id);
      const listeners = channels.get(name) ?? new Set();
      channels.set(name, listeners);
      const queue: SubscriptionQueue<BusTopics[T]> = createSubscriptionQueue<BusTopics[T]>({
        ready: Promise.resolve(),
        buffer: options.subscriberBuffer,
        onClose: () => {
          listeners.delete(queue as SubscriptionQueue<unknown>);
          if (listeners.size === 0) channels.delete(name);
        },
      });
      listeners.add(queue as SubscriptionQueue<unknown>);
      return queue.subscription;
    },
    close: async () => {
      for (const listeners of channels.values()) for (const q of listeners) q.end();
      channels.clear();
    },
  };
};
