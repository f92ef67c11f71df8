import type { TokenQuota } from "../../ports/token-quota.js";

/** Days kept in memory: the current UTC day and the one before it (calls in flight across midnight). */
const DAYS_KEPT = 2;

/**
 * Token quotas of one process: enough where one process executes every run (no Redis). Only the
 * latest DAYS_KEPT days are kept, so memory stays bounded; a restart starts the day at 0.
 */
export const createMemoryTokenQuota = (): TokenQuota => {
  const days = new Map<string, Map<string, number>>();
  const dayOf = (day: string) => {
    let counters = days.get(day);
    if (counters === undefined) {
      counters = new Map();
      days.set(day, counters);
      const oldest = [...days.keys()].sort().slice(0, Math.max(0, days.size - DAYS_KEPT));
      for (const d of oldest) days.delete(d);
    }
    return counters;
  };
  const add = (tenantId: string, day: string, delta: number) => {
    const counters = dayOf(day);
    counters.set(tenantId, (counters.get(tenantId) ?? 0) + delta);
  };
  return {
    async reserve(tenantId, day, tokens, limit) {
      const counted = days.get(day)?.get(tenantId) ?? 0;
      if (counted + tokens > limit) return { granted: false, counted };
      add(tenantId, day, tokens);
      return { granted: true, counted };
    },
    async adjust(tenantId, day, delta) {
      add(tenantId, day, delta);
    },
    counted: async (tenantId, day) => days.get(day)?.get(tenantId) ?? 0,
  };
};
