import { describe, expect, it } from "vitest";
import { createFlexibleRateLimiter } from "../../src/adapters/rate-limit/flexible-rate-limiter.js";
import { createMemoryRunSlots } from "../../src/adapters/rate-limit/memory-run-slots.js";
import { AppError } from "../../src/domain/errors.js";
import { createAdmission } from "../../src/orchestrator/admission.js";
import type { RunSlots } from "../../src/ports/run-slots.js";

const TENANT = "t1";
const PER_MINUTE = 2;

const setup = (options: { cap?: number; perMinute?: number; slots?: RunSlots } = {}) => {
  const slots = options.slots ?? createMemoryRunSlots();
  const rateLimiter = createFlexibleRateLimiter({ perMinute: options.perMinute ?? PER_MINUTE, burst: 0 });
  const admit = createAdmission({ slots, rateLimiter, maxConcurrentRunsPerTenant: options.cap }, () => true);
  return { slots, rateLimiter, admit };
};

const codeOf = async (p: Promise<unknown>): Promise<string | undefined> => {
  try {
    await p;
    return undefined;
  } catch (e) {
    return e instanceof AppError ? e.code : String(e);
  }
};

/** Units the tenant can still take from the limiter (consumes them). */
const unitsLeft = async (rateLimiter: ReturnType<typeof setup>["rateLimiter"]): Promise<number> => {
  let n = 0;
  while ((await rateLimiter.consume(TENANT)).allowed) n++;
  return n;
};

describe("admission", () => {
  it("admits a run: it holds a slot and one unit of the rate", async () => {
    const { slots, rateLimiter, admit } = setup({ cap: 2 });
    await admit(TENANT, "r1");
    expect(await slots.held(TENANT)).toBe(1);
    expect(await unitsLeft(rateLimiter)).toBe(PER_MINUTE - 1);
  });

  it("refuses a run over the cap with CONCURRENCY_LIMITED and gives its unit of the rate back", async () => {
    const { slots, rateLimiter, admit } = setup({ cap: 1 });
    await admit(TENANT, "r1");
    expect(await codeOf(admit(TENANT, "r2"))).toBe("CONCURRENCY_LIMITED");
    expect(await slots.held(TENANT)).toBe(1);
    expect(await unitsLeft(rateLimiter)).toBe(PER_MINUTE - 1);
  });

  it("refuses a run over the rate with RATE_LIMITED and a retry time, and frees the slot it took", async () => {
    const { slots, admit } = setup({ cap: 5, perMinute: 1 });
    await admit(TENANT, "r1");
    const refused = await admit(TENANT, "r2").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({
      code: "RATE_LIMITED",
      details: { retryAfterSeconds: expect.any(Number) },
    });
    expect(await slots.held(TENANT)).toBe(1);
  });

  it("says CONCURRENCY_LIMITED when both limits refuse", async () => {
    const { admit } = setup({ cap: 1, perMinute: 1 });
    await admit(TENANT, "r1");
    expect(await codeOf(admit(TENANT, "r2"))).toBe("CONCURRENCY_LIMITED");
  });

  it("passes on a failure of the slots' backend and gives the unit of the rate back", async () => {
    const broken: RunSlots = {
      ...createMemoryRunSlots(),
      acquire: async () => {
        throw new Error("slots unavailable");
      },
    };
    const { rateLimiter, admit } = setup({ cap: 1, slots: broken });
    expect(await codeOf(admit(TENANT, "r1"))).toBe("Error: slots unavailable");
    expect(await unitsLeft(rateLimiter)).toBe(PER_MINUTE);
  });
});
