import { addUsage, NO_TOKENS, type TokenUsage } from "./run.js";

/** Token counts of one model or one role, in the exact shape a ledger entry commits to. */
export interface UsageCounts {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly reasoningTokens: number;
  readonly totalTokens: number;
}

/**
 * What a run (or a tenant over a window) consumed: totals, per model that answered and per agent role.
 * Lines are sorted by model / role so that the same usage always has the same canonical JSON.
 */
export interface UsageSummary {
  readonly total: UsageCounts;
  readonly byModel: readonly (UsageCounts & { readonly model: string })[];
  readonly byRole: readonly (UsageCounts & { readonly role: string })[];
}

/** What a summary is computed from: an agent's role and its transcript entries' models and usage. */
export interface UsageSource {
  readonly role: string;
  readonly transcript: readonly {
    readonly response: { readonly model: string; readonly usage?: TokenUsage | null };
  }[];
}

/** Exactly the four counts (reasoning absent in old usage reads as 0). */
export const usageCounts = (u: TokenUsage | UsageCounts): UsageCounts => ({
  promptTokens: u.promptTokens,
  completionTokens: u.completionTokens,
  reasoningTokens: u.reasoningTokens ?? 0,
  totalTokens: u.totalTokens,
});

const sorted = <K extends string>(byKey: Map<string, TokenUsage>, key: K) =>
  [...byKey.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, u]) => ({ [key]: k, ...usageCounts(u) }) as UsageCounts & Record<K, string>);

const add = (byKey: Map<string, TokenUsage>, key: string, u: TokenUsage) =>
  byKey.set(key, addUsage(byKey.get(key) ?? NO_TOKENS, u));

/**
 * The usage recorded in agents' transcripts: every exchange's reported usage, by the model that
 * answered it and by the agent's role. Exchanges recorded before usage was recorded count as nothing.
 */
export const summariseUsage = (agents: readonly UsageSource[]): UsageSummary => {
  let total = NO_TOKENS;
  const byModel = new Map<string, TokenUsage>();
  const byRole = new Map<string, TokenUsage>();
  for (const agent of agents) {
    for (const entry of agent.transcript) {
      const u = entry.response.usage;
      if (u === undefined || u === null) continue;
      total = addUsage(total, u);
      add(byModel, entry.response.model, u);
      add(byRole, agent.role, u);
    }
  }
  return { total: usageCounts(total), byModel: sorted(byModel, "model"), byRole: sorted(byRole, "role") };
};

/** Sums summaries (a tenant's runs over a window). */
export const mergeUsage = (summaries: readonly UsageSummary[]): UsageSummary => {
  let total = NO_TOKENS;
  const byModel = new Map<string, TokenUsage>();
  const byRole = new Map<string, TokenUsage>();
  for (const s of summaries) {
    total = addUsage(total, s.total);
    for (const m of s.byModel) add(byModel, m.model, m);
    for (const r of s.byRole) add(byRole, r.role, r);
  }
  return { total: usageCounts(total), byModel: sorted(byModel, "model"), byRole: sorted(byRole, "role") };
};

/** A summary in exactly its committed shape: only its own fields, whatever object carried it. */
export const canonicalUsage = (s: UsageSummary): UsageSummary => ({
  total: usageCounts(s.total),
  byModel: s.byModel.map((m) => ({ model: m.model, ...usageCounts(m) })),
  byRole: s.byRole.map((r) => ({ role: r.role, ...usageCounts(r) })),
});

/** True when two summaries have the same counts, lines and order. */
export const sameUsage = (a: UsageSummary, b: UsageSummary): boolean =>
  JSON.stringify(canonicalUsage(a)) === JSON.stringify(canonicalUsage(b));
