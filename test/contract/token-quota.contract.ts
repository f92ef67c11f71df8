import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TokenQuota } from "../../src/ports/token-quota.js";

export interface TokenQuotaContractInit {
  readonly name: string;
  /** Two handles on one counter store (for memory, the same object twice), fresh per suite. */
  create(): Promise<{ a: TokenQuota; b: TokenQuota; destroy(): Promise<void> }>;
}

const DAY = "2026-12-02";
const NEXT_DAY = "2026-12-03";

/** Behaviour every TokenQuota adapter must have. */
export const tokenQuotaContract = (init: TokenQuotaContractInit) =>
  describe(`TokenQuota contract: ${init.name}`, () => {
    let q: Awaited<ReturnType<TokenQuotaContractInit["create"]>>;
    beforeAll(async () => {
      q = await init.create();
    });
    afterAll(async () => {
      await q.destroy();
    });
    const tenant = () => `t-${randomUUID()}`;

    it("grants reservations up to the limit, refuses one that would pass it, and reports the counter", async () => {
      const t = tenant();
      expect(await q.a.counted(t, DAY)).toBe(0);
      expect(await q.a.reserve(t, DAY, 600, 1_000)).toEqual({ granted: true, counted: 0 });
      expect(await q.b.reserve(t, DAY, 400, 1_000)).toEqual({ granted: true, counted: 600 });
      expect(await q.a.reserve(t, DAY, 1, 1_000)).toEqual({ granted: false, counted: 1_000 });
      expect(await q.b.counted(t, DAY)).toBe(1_000);
    });

    it("replaces a reservation by real usage: adjust gives back or adds", async () => {
      const t = tenant();
      await q.a.reserve(t, DAY, 500, 1_000);
      await q.b.adjust(t, DAY, -380);
      expect(await q.a.counted(t, DAY)).toBe(120);
      await q.a.adjust(t, DAY, 30);
      expect(await q.b.counted(t, DAY)).toBe(150);
      expect((await q.a.reserve(t, DAY, 850, 1_000)).granted).toBe(true);
    });

    it("keeps tenants and days apart", async () => {
      const t1 = tenant();
      const t2 = tenant();
      await q.a.reserve(t1, DAY, 1_000, 1_000);
      expect(await q.a.counted(t2, DAY)).toBe(0);
      expect((await q.b.reserve(t2, DAY, 1_000, 1_000)).granted).toBe(true);
      expect((await q.b.reserve(t1, NEXT_DAY, 1_000, 1_000)).granted).toBe(true);
    });

    it("never lets concurrent reservations exceed the limit together", async () => {
      const t = tenant();
      const attempts = Array.from({ length: 40 }, (_, i) =>
        (i % 2 === 0 ? q.a : q.b).reserve(t, DAY, 100, 1_000),
      );
      const granted = (await Promise.all(attempts)).filter((r) => r.granted).length;
      expect(granted).toBe(10);
      expect(await q.a.counted(t, DAY)).toBe(1_000);
    });
  });
