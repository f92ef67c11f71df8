import { createPubSub } from "@graphql-yoga/subscription";
import type { BusTopic, BusTopics, EventBus } from "../../ports/event-bus.js";

type PubSubTopics = { [K in BusTopic]: [id: string, message: BusTopics[K]] };

/**
 * In-process event bus over graphql-yoga's typed pub/sub (an EventTarget underneath).
 * Each subscription is a Repeater whose return() removes its listener.
 */
export const createMemoryEventBus = (): EventBus => {
  const pubsub = createPubSub<PubSubTopics>();
  return {
    publish: async (topic, id, message) => {
      // The generic topic narrows only per call site; the tuple types are identical by construction.
      (pubsub.publish as (t: string, i: string, m: unknown) => void)(topic, id, message);
    },
    subscribe: <T extends BusTopic>(topic: T, id: string) =>
      (pubsub.subscribe as (t: string, i: string) => AsyncIterableIterator<BusTopics[T]>)(topic, id),
    close: async () => {},
  };
};
