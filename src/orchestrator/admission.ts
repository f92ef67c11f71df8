import { AppError, badInput, ErrorCode } from "../domain/errors.js";
import type { Run } from "../domain/run.js";
import type { RateLimiter, RateVerdict } from "../ports/rate-limiter.js";
import type { RunSlots } from "../ports/run-slots.js";

const MS_PER_SECOND = 1_000;
/** Shortest wait a RATE_LIMITED error tells the client, so it never says "retry in 0 s". */
const MIN_RETRY_AFTER_SECONDS = 1;

/** The limits a new or resumed run must pass before it is queued. */
export interface AdmissionPolicy {
  /** Per-tenant admission rate for new runs; absent means unlimited. */
  readonly rateLimiter?: RateLimiter;
  /** Most runs of one tenant in flight (queued or executing) at once; absent means unlimited. */
  readonly maxConcurrentRunsPerTenant?: number;
  /** Where the cap is counted: shared by every instance when they share Redis. */
  readonly slots: RunSlots;
}

/**
 * Admits a tenant's run, or throws SHUTTING_DOWN, CONCURRENCY_LIMITED or RATE_LIMITED (with
 * retryAfterSeconds) when it may not start. An admitted run holds one of the tenant's slots until it
 * ends; the caller releases it if the run is not queued after all.
 */
export type Admit = (tenantId: string, runId: string) => Promise<void>;

/** The rate verdict when no limiter is configured. */
const UNLIMITED: RateVerdict = { allowed: true, refund: async () => undefined };

/**
 * Builds the admission check. The slot and the rate are asked at once (with Redis, both round trips
 * overlap); a run refused by one gives back what the other gave it, so a run refused for its slot
 * uses none of the tenant's rate. When both refuse, the concurrency error wins (it is the one a
 * client can act on soonest). Over the cap a run is refused, not queued: the client learns at once
 * and decides (see DOCS).
 */
export const createAdmission =
  (policy: AdmissionPolicy, isAccepting: () => boolean): Admit =>
  async (tenantId, runId) => {
    if (!isAccepting()) {
      throw new AppError(ErrorCode.ShuttingDown, "The server is shutting down; start the run elsewhere.");
    }
    const cap = policy.maxConcurrentRunsPerTenant;
    const [slot, rate] = await Promise.allSettled([
      cap === undefined ? true : policy.slots.acquire(tenantId, runId, cap),
      policy.rateLimiter?.consume(tenantId) ?? UNLIMITED,
    ]);
    const slotHeld = slot.status === "fulfilled" && slot.value;
    const unit = rate.status === "fulfilled" && rate.value.allowed ? rate.value : undefined;
    if (slotHeld && unit) return;
    // Refused (or failed) on one side: what the other side gave goes back.
    if (slotHeld) await policy.slots.release(tenantId, runId);
    await unit?.refund();
    if (slot.status === "rejected") throw slot.reason;
    if (!slot.value) {
      throw new AppError(
        ErrorCode.ConcurrencyLimited,
        `At most ${cap} runs may execute at once; wait for one to finish.`,
        { details: { limit: cap } },
      );
    }
    if (rate.status === "rejected") throw rate.reason;
    if (!rate.value.allowed) {
      const retryAfterSeconds = Math.max(
        MIN_RETRY_AFTER_SECONDS,
        Math.ceil(rate.value.retryAfterMs / MS_PER_SECOND),
      );
      throw new AppError(ErrorCode.RateLimited, `Too many runs started; retry in ${retryAfterSeconds} s.`, {
        details: { retryAfterSeconds },
      });
    }
  };

/** Throws BAD_USER_INPUT (argument "id") unless the run is INTERRUPTED, the only status that resumes. */
export const assertResumable = (run: Run): void => {
  if (run.status !== "INTERRUPTED") {
    throw badInput(`Only INTERRUPTED runs can be resumed; this one is ${run.status}.`, {
      argument: "id",
    });
  }
};
