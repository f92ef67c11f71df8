import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import {
  LedgerConsistencyDocument,
  OrchestrationDocument,
  OrchestrationsDocument,
  RunProvenanceDocument,
  RunUsageDocument,
  StartOrchestrationDocument,
  type StartOrchestrationInput,
  TenantUsageDocument,
} from "../../client/generated/graphql.js";
import { noteVerifierOf, verifyRunProvenance } from "../../client/index.js";
import { DEFAULT_TRAITS, toLlmParams } from "../../src/domain/genome.js";
import {
  defaultFakeReply,
  type FakeReply,
  type FakeScript,
  type FakeUsage,
  type RecordedRequest,
} from "../fakes/fake-openai-server.js";
import type { ServerBackend } from "../support/backends.js";
import { execute, request, runEvents } from "../support/graphql.js";
import { scrape } from "../support/metrics.js";
import { startOpenAiServer } from "../support/openai-server.js";
import type { TestServer } from "../support/server.js";

/** The token limit every call of the default genome sends (classic model, base 512). */
const CALL_LIMIT = toLlmParams(DEFAULT_TRAITS, 512).maxTokens;
/** What a RESEARCHER's replies say answered them, so a run has two models. */
const OTHER_MODEL = "fake-model-researcher";

const challengeJson = JSON.stringify({
  isChallenge: true,
  confidence: 0.9,
  reasoning: "A premise is missing.",
  suggestedRevision: null,
});

/** Every reply with the usage `usageOf` gives it, remembered per request so tests can sum what the fake reported. */
const reportingScript = (
  usageOf: (req: RecordedRequest) => FakeUsage,
  reply: (req: RecordedRequest) => FakeReply = defaultFakeReply,
) => {
  const reported = new Map<number, { usage: FakeUsage; model: string; role: string }>();
  const script: FakeScript = (req) => {
    const usage = usageOf(req);
    const model = req.tag?.role === "RESEARCHER" ? OTHER_MODEL : (req.body?.model ?? "");
    reported.set(req.seq, { usage, model, role: req.tag?.role ?? "" });
    return { ...(reply(req) as object), usage, model } as FakeReply;
  };
  return { script, reported };
};

const flat = (prompt: number, completion: number): FakeUsage => ({
  prompt_tokens: prompt,
  completion_tokens: completion,
  total_tokens: prompt + completion,
});

/** Sums reported usage by a key, as the API reports lines: sorted by key. */
const sums = (
  reported: Iterable<{ usage: FakeUsage; model: string; role: string }>,
  key: "model" | "role",
) => {
  const by = new Map<string, { promptTokens: number; completionTokens: number; totalTokens: number }>();
  for (const r of reported) {
    const s = by.get(r[key]) ?? { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
    by.set(r[key], {
      promptTokens: s.promptTokens + r.usage.prompt_tokens,
      completionTokens: s.completionTokens + r.usage.completion_tokens,
      totalTokens: s.totalTokens + r.usage.total_tokens,
    });
  }
  return [...by.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => ({ [key]: k, ...v, reasoningTokens: 0 }));
};

/**
 * Budgets, the tenant's daily quota and usage over the real API with the real openai client against
 * the fake OpenAI server, once per backend: budget.e2e.test.ts (embedded store) and
 * mongo-budget.e2e.test.ts (MongoDB, Redis: BullMQ and the Redis quota counters).
 */
export const budgetSuite = (backend: ServerBackend) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.splice(0)) await c();
    await backend.cleanup();
  });

  /** A server of its own (its own Redis prefix, so quota counters are never shared between tests). */
  const serve = async (script: FakeScript, env: Record<string, string> = {}) =>
    startOpenAiServer(cleanups, script, {
      // A database of its own per server: the run lists and usage windows hold this test's runs only.
      ...(await backend.env()),
      VEX_REDIS_PREFIX: `vex-test-${randomUUID()}`,
      // Non-streamed answers: the fake names the model a reply gives only in whole completions.
      VEX_LLM_STREAM: "false",
      ...env,
    });

  const start = async (server: TestServer, input: StartOrchestrationInput) =>
    (await request(server.url, StartOrchestrationDocument, { input })).startOrchestration.id;

  const typesOf = async (server: TestServer, id: string) =>
    (await runEvents(server.wsUrl, { orchestrationId: id })).map((r) => r.data?.orchestrationEvents);

  const usageOf = async (server: TestServer, id: string) => {
    const run = (await request(server.url, RunUsageDocument, { id })).orchestration;
    if (run === null) throw new Error(`run ${id} missing`);
    return run;
  };

  describe(`budgets and usage over the real API (${backend.name})`, () => {
    it("stops a run mid-debate when its budget could be exceeded, keeping the completed agent", async () => {
      // Root + one RESEARCHER; the root's shadow challenges, so its rebuttal would be the next call.
      const { script, reported } = reportingScript(
        () => flat(100, 50),
        (req) =>
          req.tag?.role === "ROOT" && req.tag.kind === "CHALLENGE"
            ? { content: challengeJson }
            : defaultFakeReply(req),
      );
      const { fake, server } = await serve(script);
      // Calls: child ANSWER, child CHALLENGE, root SYNTHESIS, root CHALLENGE (600 used); the root's
      // REBUTTAL would reserve CALL_LIMIT more, past the budget.
      const budget = 600 + CALL_LIMIT - 1;
      const id = await start(server, {
        query: "q",
        agentsPerLevel: 1,
        maxDebateRounds: 2,
        budget: { maxTotalTokens: budget },
      });
      const events = await typesOf(server, id);
      await fake.idle();

      expect(fake.requests.map((r) => `${r.tag?.role} ${r.tag?.kind}`)).toEqual([
        "RESEARCHER ANSWER",
        "RESEARCHER CHALLENGE",
        "ROOT SYNTHESIS",
        "ROOT CHALLENGE",
      ]);
      const tail = events.slice(-2);
      expect(tail[0]).toMatchObject({
        __typename: "BudgetExceeded",
        scope: "RUN",
        limit: budget,
        used: 600,
        reserved: CALL_LIMIT,
      });
      expect(tail[1]).toMatchObject({
        __typename: "RunFinished",
        status: "FAILED",
        error: { code: "BUDGET_EXCEEDED" },
      });
      const run = (await request(server.url, OrchestrationDocument, { id })).orchestration;
      expect(run?.agents.map((a) => [a.role, a.state])).toEqual([
        ["ROOT", "FAILED"],
        ["RESEARCHER", "COMPLETED"],
      ]);
      expect(run?.agents[1]?.result?.response).toContain("RESEARCHER ANSWER");

      const usage = await usageOf(server, id);
      expect(usage.usage.total).toEqual({
        promptTokens: 400,
        completionTokens: 200,
        reasoningTokens: 0,
        totalTokens: 600,
      });
      expect(usage.usage.byRole).toEqual(sums(reported.values(), "role"));
      expect(usage.usage.byModel).toEqual(sums(reported.values(), "model"));
      expect((await scrape(server.url)).split("\n")).toContain(
        'vex_runs_budget_exceeded_total{scope="RUN"} 1',
      );
    });

    it("counts the tenant's quota across runs: stops a run in flight, then refuses the next one", async () => {
      // Each reply's prompt is large: the first call alone passes the quota.
      const { script } = reportingScript(() => flat(1_200, 100));
      const quota = CALL_LIMIT + 10;
      const { fake, server } = await serve(script, { VEX_TENANT_TOKENS_PER_DAY: String(quota) });
      const first = await start(server, { query: "q", maxDepth: 1, maxDebateRounds: 1 });
      const events = await typesOf(server, first);
      expect(fake.requests.map((r) => r.tag?.kind)).toEqual(["ANSWER"]);
      expect(events.slice(-2)).toMatchObject([
        {
          __typename: "BudgetExceeded",
          scope: "TENANT_DAY",
          limit: quota,
          used: 1_300,
          reserved: CALL_LIMIT,
        },
        { __typename: "RunFinished", status: "FAILED", error: { code: "BUDGET_EXCEEDED" } },
      ]);

      const refused = await execute(server.url, StartOrchestrationDocument, { input: { query: "again" } });
      expect(refused.errors?.[0]?.extensions?.code).toBe("BUDGET_EXCEEDED");
      expect(refused.errors?.[0]?.extensions?.scope).toBe("TENANT_DAY");
      const stored = await request(server.url, OrchestrationsDocument, { first: 10 });
      expect(stored.orchestrations.edges.map((e) => e.node.id)).toEqual([first]);
      expect(fake.requests).toHaveLength(1);

      const metrics = (await scrape(server.url)).split("\n");
      expect(metrics).toContain('vex_runs_budget_exceeded_total{scope="TENANT_DAY"} 1');
      expect(metrics).toContain(
        'vex_tenant_llm_tokens_total{tenant="default",model="fake-model",type="prompt"} 1200',
      );
    });

    it("reports usage equal to the fake server's, per model and role, proves it in the ledger, and sums windows", async () => {
      const { script, reported } = reportingScript((req) => flat(10 + req.seq, 3 * req.seq));
      const { fake, server } = await serve(script);
      const a = await start(server, { query: "first", maxDebateRounds: 1 });
      await typesOf(server, a);
      await fake.idle();
      const inA = [...reported.values()];
      const between = new Date();
      const b = await start(server, { query: "second", maxDepth: 1, maxDebateRounds: 1 });
      await typesOf(server, b);
      const inB = [...reported.values()].slice(inA.length);

      const runA = await usageOf(server, a);
      expect(runA.status).toBe("SUCCEEDED");
      expect(runA.usage.byModel).toEqual(sums(inA, "model"));
      expect(runA.usage.byModel.map((m) => m.model)).toEqual(["fake-model", OTHER_MODEL]);
      expect(runA.usage.byRole).toEqual(sums(inA, "role"));
      expect(runA.usage.total.totalTokens).toBe(inA.reduce((s, r) => s + r.usage.total_tokens, 0));
      expect(runA.tokensUsed.totalTokens).toBe(runA.usage.total.totalTokens);

      // The bill is in the ledger entry and verifies from the transcripts; tampering with either fails.
      const data = await request(server.url, RunProvenanceDocument, { id: a });
      const run = data.orchestration;
      if (run === null || run.ledgerProof === null) throw new Error("no provenance");
      expect(JSON.parse(run.ledgerProof.entry.usage ?? "null")).toEqual(runA.usage);
      const anchored = await request(server.url, LedgerConsistencyDocument, {
        firstSize: run.anchorReceipts[0]?.entry.treeSize ?? 0,
        secondSize: run.ledgerProof.treeSize,
      });
      const key = noteVerifierOf(data.ledgerPublicKey);
      const failing = (r: typeof run) =>
        verifyRunProvenance({ run: r, key, anchored })
          .filter((c) => !c.ok)
          .map((c) => c.name);
      expect(failing(run)).toEqual([]);
      const tamperedEntry = structuredClone(run);
      const committed = tamperedEntry.ledgerProof?.entry;
      if (committed?.usage) {
        const bill = JSON.parse(committed.usage);
        bill.total.totalTokens -= 1;
        committed.usage = JSON.stringify(bill);
      }
      expect(failing(tamperedEntry)).toEqual(
        expect.arrayContaining([
          "ledger entry commits to this run's roots",
          "ledger entry's usage recomputes from the transcripts",
        ]),
      );
      const tamperedTranscript = structuredClone(run);
      const entry = tamperedTranscript.agents[0]?.transcript[0]?.response.usage;
      if (entry) entry.promptTokens -= 1;
      expect(failing(tamperedTranscript)).toEqual(
        expect.arrayContaining([
          expect.stringContaining("recomputes to traceRoot"),
          "ledger entry's usage recomputes from the transcripts",
        ]),
      );

      const window = async (since: Date, until: Date) =>
        (
          await request(server.url, TenantUsageDocument, {
            since: since.toISOString(),
            until: until.toISOString(),
          })
        ).usage;
      const past = new Date(0);
      const future = new Date(Date.now() + 86_400_000);
      const onlyA = await window(past, between);
      expect(onlyA.runs).toBe(1);
      expect(onlyA.usage).toEqual(runA.usage);
      const onlyB = await window(between, future);
      expect(onlyB.runs).toBe(1);
      expect(onlyB.usage.byRole).toEqual(sums(inB, "role"));
      const both = await window(past, future);
      expect(both.runs).toBe(2);
      expect(both.usage.byModel).toEqual(sums([...inA, ...inB], "model"));
      expect(both.usage.byRole).toEqual(sums([...inA, ...inB], "role"));
      expect((await window(future, new Date(future.getTime() + 1))).runs).toBe(0);
      const inverted = await execute(server.url, TenantUsageDocument, {
        since: future.toISOString(),
        until: past.toISOString(),
      });
      expect(inverted.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    });
  });
};
