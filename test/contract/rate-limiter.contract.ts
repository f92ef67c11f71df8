import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RateLimiter } from "../../src/ports/rate-limiter.js";
import type { RunSlots } from "../../src/ports/run-slots.js";

const SECONDS_PER_MINUTE = 60;

export interface AdmissionLimitsContractInit {
  readonly name: string;
  /**
   * Two views of one backend (two instances sharing it; for in-memory limits the same objects
   * twice), built with these settings.
   */
  create(settings: { perMinute: number; burst: number }): Promise<{
    limiters: readonly [RateLimiter, RateLimiter];
    slots: readonly [RunSlots, RunSlots];
    destroy(): Promise<void>;
  }>;
}

/** Behaviour every rate limiter and run-slot adapter must have; "instances" share one backend. */
export const admissionLimitsContract = (init: AdmissionLimitsContractInit) =>
  describe(`RateLimiter and RunSlots contract: ${init.name}`, () => {
    const PER_MINUTE = 3;
    const BURST = 2;
    let backend: Awaited<ReturnType<AdmissionLimitsContractInit["create"]>>;
    beforeAll(async () => {
      backend = await init.create({ perMinute: PER_MINUTE, burst: BURST });
    });
    afterAll(() => backend?.destroy());
    const tenant = () => `tenant-${randomUUID()}`;

    it("allows the rate plus the burst per key, across instances, then says how long to wait", async () => {
      const [a, b] = backend.limiters;
      const key = tenant();
      const verdicts = [];
      for (let i = 0; i < PER_MINUTE + BURST + 1; i++) verdicts.push(await (i % 2 ? b : a).consume(key));
      expect(verdicts.slice(0, PER_MINUTE + BURST).every((v) => v.allowed)).toBe(true);
      const refused = verdicts.at(-1);
      expect(refused?.allowed).toBe(false);
      if (refused && !refused.allowed) {
        expect(refused.retryAfterMs).toBeGreaterThan(0);
        expect(refused.retryAfterMs).toBeLessThanOrEqual(SECONDS_PER_MINUTE * 1_000 * 10);
      }
    });

    it("keeps keys apart", async () => {
      const [a] = backend.limiters;
      const busy = tenant();
      for (let i = 0; i < PER_MINUTE + BURST; i++) await a.consume(busy);
      expect((await a.consume(busy)).allowed).toBe(false);
      expect((await a.consume(tenant())).allowed).toBe(true);
    });

    it("admits concurrent consumers exactly up to the limit", async () => {
      const [a, b] = backend.limiters;
      const key = tenant();
      const verdicts = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? b : a).consume(key)));
      expect(verdicts.filter((v) => v.allowed)).toHaveLength(PER_MINUTE + BURST);
    });

    it("takes a refunded unit back, into the sustained rate or the burst it came from", async () => {
      const [a, b] = backend.limiters;
      const allowedUntilRefused = async (key: string) => {
        let n = 0;
        while ((await (n % 2 ? a : b).consume(key)).allowed) n++;
        return n;
      };
      const sustained = tenant();
      const verdicts = [];
      for (let i = 0; i < PER_MINUTE; i++) verdicts.push(await a.consume(sustained));
      const last = verdicts.at(-1);
      if (!last?.allowed) throw new Error("a unit within the rate was refused");
      await last.refund();
      expect(await allowedUntilRefused(sustained)).toBe(1 + BURST);

      const burst = tenant();
      for (let i = 0; i < PER_MINUTE + BURST - 1; i++) await a.consume(burst);
      const fromBurst = await a.consume(burst);
      if (!fromBurst.allowed) throw new Error("a unit within the burst was refused");
      await fromBurst.refund();
      expect(await allowedUntilRefused(burst)).toBe(1);
    });

    it("holds the cap of run slots across instances, even when they race", async () => {
      const [a, b] = backend.slots;
      const key = tenant();
      const taken = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? b : a).acquire(key, `run-${i}`, 2)),
      );
      expect(taken.filter(Boolean)).toHaveLength(2);
      expect(await a.held(key)).toBe(2);
      expect(await b.held(key)).toBe(2);
    });

    it("lets a run holding a slot take it again, and frees it on release", async () => {
      const [a, b] = backend.slots;
      const key = tenant();
      expect(await a.acquire(key, "r1", 1)).toBe(true);
      expect(await b.acquire(key, "r1", 1)).toBe(true);
      expect(await b.acquire(key, "r2", 1)).toBe(false);
      await b.release(key, "r1");
      expect(await a.held(key)).toBe(0);
      expect(await a.acquire(key, "r2", 1)).toBe(true);
      await a.release(key, "unknown");
      expect(await b.held(key)).toBe(1);
      expect(await b.held(tenant())).toBe(0);
    });
  });
