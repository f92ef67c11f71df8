import type { OptimizationRule } from "../../domain/evolution.js";
import type { Agent } from "../../domain/run.js";
import type { EvolutionContext } from "./context.js";
import { consolidate } from "./reflection-llm.js";
import type { TenantState } from "./tenant-cache.js";

/** What a consolidation attempt did. */
export type ConsolidationOutcome =
  | { readonly status: "NOT_DUE" | "BACKING_OFF" }
  | { readonly status: "CONSOLIDATED"; readonly removed: number; readonly added: readonly OptimizationRule[] }
  | { readonly status: "FAILED"; readonly code: string; readonly message: string };

/**
 * When the tenant's memory holds at least `consolidationTrigger` experiments, sends the
 * `consolidationBatch` OLDEST to the LLM (kind CONSOLIDATION, attributed to the run's root agent) and,
 * only when its answer parsed (an empty rule list included), stores the new rules (de-duplicated) and
 * removes exactly those experiments — from memory and store. A failure removes nothing and waits
 * `consolidationRetryRuns` of the tenant's runs before trying again (the seed retried on every run).
 * Runs under the tenant's lock; an abort is rethrown.
 */
export const maybeConsolidate = async (
  ctx: EvolutionContext,
  state: TenantState,
  run: { readonly id: string; readonly tenantId: string },
  agents: readonly Agent[],
  signal: AbortSignal,
): Promise<ConsolidationOutcome> => {
  const { settings, store } = ctx;
  if (state.memory.size < settings.consolidationTrigger) return { status: "NOT_DUE" };
  if (state.consolidationBackoff > 0) {
    state.consolidationBackoff--;
    return { status: "BACKING_OFF" };
  }
  const batch = state.memory.oldest(settings.consolidationBatch);
  const root = agents.find((a) => a.depth === 0) ?? agents[0];
  const result = await consolidate(
    {
      llm: ctx.llm,
      tenantId: run.tenantId,
      runId: run.id,
      agentId: root?.id ?? run.id,
      role: root?.role ?? "ROOT",
      signal,
    },
    batch,
  );
  if (!result.ok) {
    state.consolidationBackoff = settings.consolidationRetryRuns;
    ctx.onWarning?.("Consolidation failed; no experiment was removed.", {
      tenantId: run.tenantId,
      runId: run.id,
      code: result.error.code,
      reason: result.error.message,
    });
    return { status: "FAILED", code: result.error.code, message: result.error.message };
  }
  const now = ctx.clock.now();
  const rules = result.value.map(
    (r): OptimizationRule => ({
      id: ctx.ids.next(),
      tenantId: run.tenantId,
      description: r.description,
      traits: r.traits,
      confidence: r.confidence,
      sourceExperimentCount: batch.length,
      createdAt: now,
    }),
  );
  const added = await store.rules.add(run.tenantId, rules);
  const ids = batch.map((e) => e.id);
  const removed = await store.experiments.removeExactly(run.tenantId, ids);
  state.memory.removeExactly(ids);
  if (added.length > 0) state.guidance = await store.rules.top(run.tenantId, settings.maxGuidanceRules);
  return { status: "CONSOLIDATED", removed, added };
};
