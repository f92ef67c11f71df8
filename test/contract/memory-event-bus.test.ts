import { describe, expect, it } from "vitest";
import { createMemoryEventBus } from "../../src/adapters/bus/memory-bus.js";
import { eventBusContract } from "./event-bus.contract.js";

eventBusContract({
  name: "memory",
  create: async () => {
    const bus = createMemoryEventBus();
    return { a: bus, b: bus, destroy: () => bus.close() };
  },
});

describe("memory bus buffering", () => {
  it("drops the oldest messages of a subscriber that falls behind its buffer", async () => {
    const bus = createMemoryEventBus({ subscriberBuffer: 3 });
    const sub = bus.subscribe("agentToken", "r");
    for (let i = 1; i <= 5; i++) {
      await bus.publish("agentToken", "r", {
        runId: "r",
        agentId: "a",
        kind: "ANSWER",
        text: String(i),
        at: new Date(),
      });
    }
    const got = [await sub.next(), await sub.next(), await sub.next()].map((r) => r.value?.text);
    expect(got).toEqual(["3", "4", "5"]);
    await bus.close();
    expect(await sub.next()).toEqual({ value: undefined, done: true });
  });
});
