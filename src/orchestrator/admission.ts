import { AppError, badInput, ErrorCode } from "../domain/errors.js";
import type { Run } from "../domain/run.js";
import type { RateLimiter } from "../ports/rate-limiter.js";

const MS_PER_SECOND = 1_000;
/** Shortest wait a RATE_LIMITED error tells the client, so it never says "retry in 0 s". */
const MIN_RETRY_AFTER_SECONDS = 1;

/** The limits a new or resumed run must pass before it executes. */
export interface AdmissionPolicy {
  /** Per-tenant admission rate for new runs; absent means unlimited. */
  readonly rateLimiter?: RateLimiter;
  /** Most runs one tenant may have executing in this process at once; absent means unlimited. */
  readonly maxConcurrentRunsPerTenant?: number;
}

/** What admission reads of the orchestrator's state at the moment a run asks to start. */
export interface AdmissionState {
  /** False once shutdown began. */
  isAccepting(): boolean;
  /** Runs of the tenant executing in this process. */
  activeRunsOf(tenantId: string): number;
}

/**
 * Admits a tenant's run, or throws SHUTTING_DOWN, CONCURRENCY_LIMITED or RATE_LIMITED (with
 * retryAfterSeconds) when it may not start.
 */
export type Admit = (tenantId: string) => Promise<void>;

/**
 * Builds the admission check. Checks run in order (shutdown, concurrency, rate) and the rate
 * limiter is consulted last, so a run refused for another reason does not use up the tenant's rate.
 */
export const createAdmission =
  (policy: AdmissionPolicy, state: AdmissionState): Admit =>
  async (tenantId) => {
    if (!state.isAccepting()) {
      throw new AppError(ErrorCode.ShuttingDown, "The server is shutting down; start the run elsewhere.");
    }
    const cap = policy.maxConcurrentRunsPerTenant;
    if (cap !== undefined && state.activeRunsOf(tenantId) >= cap) {
      throw new AppError(
        ErrorCode.ConcurrencyLimited,
        `At most ${cap} runs may execute at once; wait for one to finish.`,
        {
          details: { limit: cap },
        },
      );
    }
    const verdict = await policy.rateLimiter?.consume(tenantId);
    if (verdict && !verdict.allowed) {
      const retryAfterSeconds = Math.max(
        MIN_RETRY_AFTER_SECONDS,
        Math.ceil(verdict.retryAfterMs / MS_PER_SECOND),
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
