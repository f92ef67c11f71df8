import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventBus } from "../../src/ports/event-bus.js";

export interface EventBusContractInit {
  readonly name: string;
  /** Two buses that share one backend (for the memory bus, the same object twice). */
  create(): Promise<{ a: EventBus; b: EventBus; destroy(): Promise<void> }>;
}

const token = (text: string) => ({
  runId: "r",
  agentId: "x",
  kind: "ANSWER",
  text,
  at: new Date(Date.UTC(2026, 0, 1)),
});

const next = async <T>(it: AsyncIterator<T>, ms = 2_000): Promise<IteratorResult<T>> =>
  Promise.race([
    it.next(),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no message in time")), ms)),
  ]);

/** Behaviour every EventBus adapter must have. */
export const eventBusContract = (init: EventBusContractInit) =>
  describe(`EventBus contract: ${init.name}`, () => {
    let buses: Awaited<ReturnType<EventBusContractInit["create"]>>;
    beforeAll(async () => {
      buses = await init.create();
    });
    afterAll(async () => {
      await buses.destroy();
    });

    it("delivers what another publisher sends, in order, with Dates intact", async () => {
      const sub = buses.b.subscribe("agentToken", "run-1");
      await sub.ready;
      for (const t of ["one", "two", "three"]) await buses.a.publish("agentToken", "run-1", token(t));
      const got = [await next(sub), await next(sub), await next(sub)].map((r) => r.value);
      expect(got.map((t) => t?.text)).toEqual(["one", "two", "three"]);
      expect(got[0]?.at).toBeInstanceOf(Date);
      expect(got[0]?.at.toISOString()).toBe("2026-01-01T00:00:00.000Z");
      await sub.return?.();
    });

    it("scopes delivery by topic and id", async () => {
      const sub = buses.b.subscribe("agentToken", "run-2");
      await sub.ready;
      await buses.a.publish("agentToken", "run-other", token("elsewhere"));
      await buses.a.publish("agentToken", "run-2", token("here"));
      expect((await next(sub)).value?.text).toBe("here");
      await sub.return?.();
    });

    it("keeps messages published before the first next() (eager registration)", async () => {
      const sub = buses.b.subscribe("agentToken", "run-3");
      await sub.ready;
      await buses.a.publish("agentToken", "run-3", token("early"));
      await new Promise((r) => setTimeout(r, 50));
      expect((await next(sub)).value?.text).toBe("early");
      await sub.return?.();
    });

    it("fans out to every subscriber and stops delivering after return()", async () => {
      const s1 = buses.b.subscribe("agentToken", "run-4");
      const s2 = buses.b.subscribe("agentToken", "run-4");
      await Promise.all([s1.ready, s2.ready]);
      await buses.a.publish("agentToken", "run-4", token("both"));
      expect((await next(s1)).value?.text).toBe("both");
      expect((await next(s2)).value?.text).toBe("both");
      await s1.return?.();
      expect(await s1.next()).toEqual({ value: undefined, done: true });
      await buses.a.publish("agentToken", "run-4", token("only s2"));
      expect((await next(s2)).value?.text).toBe("only s2");
      await s2.return?.();
    });
  });
