import { AppError, ErrorCode } from "../domain/errors.js";
import type { BudgetExceededDetails, BudgetScope } from "../domain/events.js";
import type { TokenUsage } from "../domain/run.js";
import type { Clock } from "../ports/clock.js";
import type { LlmClient } from "../ports/llm.js";
import type { TokenQuota } from "../ports/token-quota.js";

/** Characters of an ISO timestamp that name its UTC day (YYYY-MM-DD). */
const ISO_DAY_LENGTH = 10;

/** The UTC day of a time, as the quota counters are keyed: YYYY-MM-DD. */
export const utcDay = (at: Date): string => at.toISOString().slice(0, ISO_DAY_LENGTH);

/** The tenant's daily quota, where it is counted and its limit; absent when there is none. */
export interface TenantQuotaPolicy {
  readonly quota: TokenQuota;
  readonly tokensPerDay: number;
}

const MESSAGES: Record<BudgetScope, (d: BudgetExceededDetails) => string> = {
  RUN: (d) =>
    `The run's token budget of ${d.limit} would be exceeded (${d.used} used, ${d.reserved} reserved by calls in flight and the next call); the call was not made.`,
  TENANT_DAY: (d) =>
    `The tenant's daily token quota of ${d.limit} would be exceeded (${d.used} counted today, ${d.reserved} for the next call); the call was not made.`,
};

/** The BUDGET_EXCEEDED error; its details are the BudgetExceeded event's. */
export const budgetExceeded = (details: BudgetExceededDetails): AppError =>
  new AppError(ErrorCode.BudgetExceeded, MESSAGES[details.scope](details), { details: { ...details } });

/** The BudgetExceeded details an error carries, or null when it is not BUDGET_EXCEEDED. */
export const budgetDetailsOf = (e: unknown): BudgetExceededDetails | null => {
  if (!(e instanceof AppError) || e.code !== ErrorCode.BudgetExceeded || e.details === undefined) return null;
  const { scope, limit, used, reserved } = e.details as unknown as BudgetExceededDetails;
  return { scope, limit, used, reserved };
};

/** Settles a reservation with what the call really used (null: the call failed; all of it is given back). */
export type Settle = (usage: TokenUsage | null) => Promise<void>;

/** A run's guard on its LLM calls: reserve before, settle after. */
export interface RunBudget {
  /** Reserves `maxTokens` for a call, or throws BUDGET_EXCEEDED when the call could exceed a budget. */
  reserve(maxTokens: number): Promise<Settle>;
}

/**
 * The guard of one run's execution. A call reserves its token limit (what it may at most complete);
 * the run's reservations are summed here (a run executes in one process) and checked against
 * `runLimit` together with the tokens already used; the tenant's are counted in the shared quota.
 * Prompt tokens are not known before the call: the real usage replaces the reservation after it.
 */
export const createRunBudget = (options: {
  readonly tenantId: string;
  readonly clock: Clock;
  /** The run's maxTotalTokens; absent: no run budget. */
  readonly runLimit?: number | undefined;
  readonly tenant?: TenantQuotaPolicy | undefined;
  /** Tokens the run has used so far (resumed runs included). */
  readonly used: () => number;
}): RunBudget => {
  const { tenantId, runLimit, tenant } = options;
  let inFlight = 0;
  return {
    async reserve(maxTokens) {
      if (runLimit !== undefined) {
        const used = options.used();
        if (used + inFlight + maxTokens > runLimit) {
          throw budgetExceeded({ scope: "RUN", limit: runLimit, used, reserved: inFlight + maxTokens });
        }
      }
      inFlight += maxTokens;
      const day = utcDay(options.clock.now());
      if (tenant !== undefined) {
        const r = await tenant.quota.reserve(tenantId, day, maxTokens, tenant.tokensPerDay);
        if (!r.granted) {
          inFlight -= maxTokens;
          throw budgetExceeded({
            scope: "TENANT_DAY",
            limit: tenant.tokensPerDay,
            used: r.counted,
            reserved: maxTokens,
          });
        }
      }
      let settled = false;
      return async (usage) => {
        if (settled) return;
        settled = true;
        inFlight -= maxTokens;
        await tenant?.quota.adjust(tenantId, day, (usage?.totalTokens ?? 0) - maxTokens);
      };
    },
  };
};

/** Throws BUDGET_EXCEEDED (TENANT_DAY) when the tenant has no tokens left today: a new run is refused. */
export const assertTenantHasTokens = async (
  tenant: TenantQuotaPolicy | undefined,
  tenantId: string,
  clock: Clock,
): Promise<void> => {
  if (tenant === undefined) return;
  const counted = await tenant.quota.counted(tenantId, utcDay(clock.now()));
  if (counted >= tenant.tokensPerDay) {
    throw budgetExceeded({ scope: "TENANT_DAY", limit: tenant.tokensPerDay, used: counted, reserved: 0 });
  }
};

/**
 * Makes one LLM call under the budget: reserves its token limit, makes it unless the run was stopped
 * meanwhile, lets `record` count its usage, then settles the reservation with that usage.
 */
export const withinBudget = async <T extends { readonly usage: TokenUsage }>(
  budget: RunBudget | undefined,
  maxTokens: number,
  signal: AbortSignal,
  call: () => Promise<T>,
  record: (response: T) => void,
): Promise<T> => {
  const settle = (await budget?.reserve(maxTokens)) ?? (async () => {});
  let response: T;
  try {
    if (signal.aborted) throw signal.reason;
    response = await call();
  } catch (e) {
    await settle(null);
    throw e;
  }
  // Counted in the run's usage before the reservation is released, so it is never missing from both.
  record(response);
  await settle(response.usage);
  return response;
};

/**
 * The LLM as evolution uses it (REFLECTION and CONSOLIDATION calls, made for the tenant after a run
 * succeeded, outside any run): their real usage is counted in the tenant's daily quota, but they are
 * never refused, so a quota running out cannot fail a run whose agents all completed.
 */
export const countedInTenantQuota = (
  llm: LlmClient,
  tenant: TenantQuotaPolicy | undefined,
  clock: Clock,
): LlmClient =>
  tenant === undefined
    ? llm
    : {
        ...llm,
        async complete(request, options) {
          const response = await llm.complete(request, options);
          await tenant.quota.adjust(request.tag.tenantId, utcDay(clock.now()), response.usage.totalTokens);
          return response;
        },
      };
