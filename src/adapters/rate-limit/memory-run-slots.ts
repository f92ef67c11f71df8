import type { RunSlots } from "../../ports/run-slots.js";

/** Run slots of one process: enough where one process executes every run (no Redis). */
export const createMemoryRunSlots = (): RunSlots => {
  const byTenant = new Map<string, Set<string>>();
  return {
    async acquire(tenantId, runId, cap) {
      const runs = byTenant.get(tenantId) ?? new Set<string>();
      if (!runs.has(runId) && runs.size >= cap) return false;
      runs.add(runId);
      byTenant.set(tenantId, runs);
      return true;
    },
    async release(tenantId, runId) {
      const runs = byTenant.get(tenantId);
      runs?.delete(runId);
      if (runs?.size === 0) byTenant.delete(tenantId);
    },
    held: async (tenantId) => byTenant.get(tenantId)?.size ?? 0,
  };
};
