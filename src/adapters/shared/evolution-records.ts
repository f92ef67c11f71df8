import { normalizeRuleText, type OptimizationRule } from "../../domain/evolution.js";
import { insertUnlessDuplicate } from "./guard.js";
import { assertTenant, tenantKey } from "./tenant-guard.js";

/** A rule as stored: keyed by (tenant, id), with its normalised text as `key`, unique per tenant. */
export type RuleDoc = OptimizationRule & { key: string; _id: string };

/** The stored form of a tenant's rule. */
export const ruleDoc = (tenantId: string, rule: OptimizationRule): RuleDoc => ({
  ...rule,
  key: normalizeRuleText(rule.description),
  _id: tenantKey(tenantId, rule.id),
});

/**
 * Inserts a tenant's rules one at a time and returns those inserted, in order: a rule whose normalised
 * text (or id) the tenant has already is skipped, as `insert` rejecting with a duplicate key tells. A
 * rule of another tenant is a programming error (see `assertTenant`).
 */
export const addNewRules = async (
  tenantId: string,
  rules: readonly OptimizationRule[],
  insert: (doc: RuleDoc) => Promise<unknown>,
  isDuplicate: (e: unknown) => boolean,
): Promise<OptimizationRule[]> => {
  assertTenant(tenantId, rules);
  const added: OptimizationRule[] = [];
  for (const rule of rules) {
    if (await insertUnlessDuplicate(() => insert(ruleDoc(tenantId, rule)), isDuplicate)) added.push(rule);
  }
  return added;
};
