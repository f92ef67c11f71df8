import { describe, expect, it } from "vitest";
import { createMemoryTokenQuota } from "../../src/adapters/rate-limit/memory-token-quota.js";
import { canonicalJson } from "../../src/domain/canonical.js";
import { isAppError } from "../../src/domain/errors.js";
import { ledgerLeafData } from "../../src/domain/ledger.js";
import { type TranscriptEntry, transcriptLeafHash } from "../../src/domain/transcript.js";
import { mergeUsage, summariseUsage } from "../../src/domain/usage.js";
import {
  budgetDetailsOf,
  countedInTenantQuota,
  createRunBudget,
  utcDay,
} from "../../src/orchestrator/budget.js";
import { resolveRunInput } from "../../src/orchestrator/run-input.js";
import { ScriptedLlm } from "../fakes/scripted-llm.js";

const clock = { now: () => new Date("2026-12-02T23:59:00.000Z") };
const usage = (total: number) => ({ promptTokens: total - 1, completionTokens: 1, totalTokens: total });

const refusal = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    expect(isAppError(e) && e.code).toBe("BUDGET_EXCEEDED");
    return budgetDetailsOf(e);
  }
  throw new Error("not refused");
};

describe("run budget", () => {
  it("counts calls in flight as reserved and replaces a reservation by real usage", async () => {
    let used = 0;
    const budget = createRunBudget({ tenantId: "t", clock, runLimit: 1_000, used: () => used });
    const a = await budget.reserve(400);
    const b = await budget.reserve(400);
    // 800 reserved by two calls in flight: a third of 400 could exceed 1000 (reserved counts it too).
    expect(await refusal(budget.reserve(400))).toEqual({
      scope: "RUN",
      limit: 1_000,
      used: 0,
      reserved: 1_200,
    });
    used += 150;
    await a(usage(150));
    used += 100;
    await b(usage(100));
    expect((await budget.reserve(700)) !== undefined).toBe(true);
  });

  it("reserves in the tenant's quota for the UTC day and gives back what a call did not use", async () => {
    const quota = createMemoryTokenQuota();
    const tenant = { quota, tokensPerDay: 1_000 };
    const budget = createRunBudget({ tenantId: "t", clock, tenant, used: () => 0 });
    const settle = await budget.reserve(600);
    expect(await quota.counted("t", "2026-12-02")).toBe(600);
    await settle(usage(250));
    expect(await quota.counted("t", utcDay(clock.now()))).toBe(250);
    const failed = await budget.reserve(700);
    await failed(null);
    expect(await quota.counted("t", "2026-12-02")).toBe(250);
    expect(await refusal(budget.reserve(751))).toEqual({
      scope: "TENANT_DAY",
      limit: 1_000,
      used: 250,
      reserved: 751,
    });
  });
});

describe("usage summaries and their commitment", () => {
  const entry = (model: string, total: number | null): TranscriptEntry => ({
    index: 0,
    kind: "ANSWER",
    round: 0,
    request: { system: "s", messages: [], params: { maxTokens: 10 }, json: false },
    response: {
      content: "c",
      model,
      ...(total === null ? {} : { usage: { ...usage(total), reasoningTokens: 0 } }),
    },
  });

  it("sums per model and per role, sorted, and merges summaries", () => {
    const s = summariseUsage([
      { role: "ROOT", transcript: [entry("b", 10), entry("a", 5)] },
      { role: "CRITIC", transcript: [entry("b", 1), entry("old", null)] },
    ]);
    expect(s.total.totalTokens).toBe(16);
    expect(s.byModel.map((m) => [m.model, m.totalTokens])).toEqual([
      ["a", 5],
      ["b", 11],
    ]);
    expect(s.byRole.map((r) => [r.role, r.totalTokens])).toEqual([
      ["CRITIC", 1],
      ["ROOT", 15],
    ]);
    expect(mergeUsage([s, s]).byModel.map((m) => m.totalTokens)).toEqual([10, 22]);
  });

  it("keeps the leaf data of entries and transcripts recorded before usage unchanged", () => {
    const old = {
      runId: "r",
      merkleRoot: "m",
      traceRoot: "t",
      leafCount: 3,
      recordedAt: "2026-01-01T00:00:00.000Z",
    };
    const fiveFields = canonicalJson(old);
    expect(new TextDecoder().decode(ledgerLeafData(old))).toBe(fiveFields);
    expect(new TextDecoder().decode(ledgerLeafData({ ...old, usage: null }))).toBe(fiveFields);
    const withUsage = ledgerLeafData({
      ...old,
      usage: summariseUsage([{ role: "ROOT", transcript: [entry("a", 5)] }]),
    });
    expect(JSON.parse(new TextDecoder().decode(withUsage)).usage.total.totalTokens).toBe(5);
    const { usage: _, ...response } = entry("a", 5).response;
    expect(transcriptLeafHash(entry("a", null))).toEqual(transcriptLeafHash({ ...entry("a", 5), response }));
  });
});

describe("evolution's calls", () => {
  it("count in the tenant's quota with their real usage and are never refused", async () => {
    const quota = createMemoryTokenQuota();
    const llm = countedInTenantQuota(new ScriptedLlm(() => "{}"), { quota, tokensPerDay: 10 }, clock);
    const tag = {
      tenantId: "t",
      runId: "",
      agentId: "",
      role: "ROOT",
      kind: "REFLECTION",
      round: 0,
    } as const;
    for (let i = 0; i < 2; i++)
      await llm.complete({ system: "s", messages: [], params: { maxTokens: 1_024 }, tag });
    // Two calls of 15 tokens each (the scripted usage): past the quota of 10, and both made.
    expect(await quota.counted("t", "2026-12-02")).toBe(30);
  });
});

describe("a run's budget input", () => {
  it("is stored in the run's config when given, and must be a whole number of tokens", () => {
    const seed = () => 1;
    expect(resolveRunInput({ query: "q" }, seed).config.budget).toBeUndefined();
    expect(
      resolveRunInput({ query: "q", budget: { maxTotalTokens: null } }, seed).config.budget,
    ).toBeUndefined();
    expect(resolveRunInput({ query: "q", budget: { maxTotalTokens: 5_000 } }, seed).config.budget).toEqual({
      maxTotalTokens: 5_000,
    });
    for (const bad of [0, -3, 1.5]) {
      try {
        resolveRunInput({ query: "q", budget: { maxTotalTokens: bad } }, seed);
        throw new Error("accepted");
      } catch (e) {
        expect(isAppError(e) && [e.code, e.details]).toEqual([
          "BAD_USER_INPUT",
          { field: "budget.maxTotalTokens" },
        ]);
      }
    }
  });
});
