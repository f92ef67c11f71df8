import type { EvolutionRecord, OptimizationRule, TenantExperiment } from "../domain/evolution.js";
import type { Traits } from "../domain/genome.js";

/** Evolution's domain → GraphQL shapes. Only renames and copies; no logic. */

const traitValues = (t: Traits) => ({ ...t });

/** An EvolutionRecord as the API shows it (runId → orchestrationId). */
export const toEvolutionRecordView = (r: EvolutionRecord) => ({
  ...r,
  orchestrationId: r.runId,
  before: traitValues(r.before),
  after: traitValues(r.after),
  parentGenomeIds: [...r.parentGenomeIds],
  adjustments: r.adjustments.map((a) => ({ ...a })),
});

/** An experiment as the API shows it (runId → orchestrationId). */
export const toExperimentView = (e: TenantExperiment) => ({
  ...e,
  orchestrationId: e.runId,
  traits: traitValues(e.traits),
});

/** A learned rule as the API shows it. */
export const toRuleView = (r: OptimizationRule) => ({ ...r, traits: [...r.traits] });
