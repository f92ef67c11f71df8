import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { parse } from "graphql";
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { OrchestrationDocument, StartOrchestrationDocument } from "../../client/generated/graphql.js";
import { verifyRun } from "../../client/verify.js";
import { createOpenAiLlmClient } from "../../src/adapters/openai/openai-llm-client.js";
import { loadConfig } from "../../src/config.js";
import { DEFAULT_TRAITS } from "../../src/domain/genome.js";
import { consolidate, reflect } from "../../src/orchestrator/evolution/reflection-llm.js";
import {
  agreeVerdictJson,
  defaultFakeReply,
  type FakeContentReply,
  type FakeOpenAi,
  type FakeScript,
  startFakeOpenAi,
} from "../fakes/fake-openai-server.js";
import { request, runEvents } from "../support/graphql.js";
import { sample, scrape } from "../support/metrics.js";
import { removeDir, startTestServer, type TestServer } from "../support/server.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const JUDGE_MODEL = "judge-model";
const DEFAULT_MODEL = "fake-model";
/** VEX_MODEL's default, which the startup check tests when VEX_MODEL is unset. */
const DEFAULT_MODEL_CHECKED = "gpt-4o-mini";

/** Two fake servers as two providers: the default one (OPENAI_*) and "judge" (VEX_LLM_PROVIDERS). */
const startTwoProviders = async (
  scripts: { default?: FakeScript; judge?: FakeScript },
  judgeSettings: Record<string, unknown> = {},
  env: Record<string, string> = {},
): Promise<{ main: FakeOpenAi; judge: FakeOpenAi; server: TestServer }> => {
  const main = await startFakeOpenAi(scripts.default ? { script: scripts.default } : {});
  const judge = await startFakeOpenAi(scripts.judge ? { script: scripts.judge } : {});
  const server = await startTestServer({
    env: {
      OPENAI_BASE_URL: main.url,
      OPENAI_API_KEY: "sk-default",
      VEX_MODEL: DEFAULT_MODEL,
      VEX_LLM_CONTEXT_HEADERS: "true",
      JUDGE_KEY: "sk-judge",
      VEX_LLM_PROVIDERS: JSON.stringify({
        judge: { baseURL: judge.url, apiKeyEnv: "JUDGE_KEY", ...judgeSettings },
      }),
      VEX_MODEL_ROUTES: JSON.stringify({ CHALLENGE: `judge:${JUDGE_MODEL}`, REPAIR: `judge:${JUDGE_MODEL}` }),
      ...env,
    },
  });
  cleanups.push(async () => {
    await server.stop();
    await main.close();
    await judge.close();
    await removeDir(server.dataDir);
  });
  return { main, judge, server };
};

const runToEnd = async (server: TestServer, input: Record<string, unknown> = { query: "q" }) => {
  const { startOrchestration: run } = await request(server.url, StartOrchestrationDocument, {
    input: input as { query: string },
  });
  await runEvents(server.wsUrl, { orchestrationId: run.id });
  return (await request(server.url, OrchestrationDocument, { id: run.id })).orchestration;
};

interface RoutingView {
  orchestration: {
    debateChangedAnswers: number;
    agents: {
      role: string;
      models: string[];
      result: { answerChanged: boolean; response: string } | null;
      transcript: { kind: string; response: { model: string; provider: string | null } }[];
    }[];
  };
}
const RoutingDocument = parse(`query Routing($id: ID!) {
  orchestration(id: $id) {
    debateChangedAnswers
    agents { role models result { answerChanged response } transcript { kind response { model provider } } }
  }
}`) as TypedDocumentNode<RoutingView, { id: string }>;

const routingOf = async (server: TestServer, id: string) =>
  (await request(server.url, RoutingDocument, { id })).orchestration;

const SHADOW_KINDS = ["CHALLENGE", "REPAIR"];

describe("several providers routed by role and call kind", () => {
  it("sends CHALLENGE and REPAIR to the judge with its model and the rest to the default; transcripts, models and proofs say so", async () => {
    const { main, judge, server } = await startTwoProviders({
      // The judge's first verdict on the critic is prose: the repair goes to the judge too.
      judge: [{ match: { role: "CRITIC", kind: "CHALLENGE" }, reply: { content: "Looks right." } }],
    });
    const run = await runToEnd(server, { query: "q", maxDebateRounds: 1 });
    expect(run?.status).toBe("SUCCEEDED");

    expect(judge.requests.length).toBeGreaterThan(0);
    for (const r of judge.requests) {
      expect(SHADOW_KINDS).toContain(r.tag?.kind);
      expect(r.body?.model).toBe(JUDGE_MODEL);
      expect(r.headers.authorization).toBe("Bearer sk-judge");
    }
    expect(judge.requests.some((r) => r.tag?.kind === "REPAIR")).toBe(true);
    expect(main.requests.length).toBeGreaterThan(0);
    for (const r of main.requests) {
      expect(SHADOW_KINDS).not.toContain(r.tag?.kind);
      expect(r.body?.model).toBe(DEFAULT_MODEL);
      expect(r.headers.authorization).toBe("Bearer sk-default");
    }

    const view = await routingOf(server, run?.id ?? "");
    for (const agent of view.agents) {
      expect(agent.models).toEqual([`default:${DEFAULT_MODEL}`, `judge:${JUDGE_MODEL}`]);
      for (const e of agent.transcript) {
        const shadow = SHADOW_KINDS.includes(e.kind);
        expect(e.response).toEqual(
          shadow ? { model: JUDGE_MODEL, provider: "judge" } : { model: DEFAULT_MODEL, provider: "default" },
        );
      }
    }
    // The provider is part of each hashed entry, and the client recomputes every trace root with it.
    const verification = await verifyRun(
      { request: (doc, ...vars) => request(server.url, doc, vars[0]) },
      run?.id ?? "",
    );
    expect(verification.checks.filter((c) => !c.ok)).toEqual([]);
    expect(verification.ok).toBe(true);
  });

  it("gives each provider its own retries: the judge with maxRetries 0 fails at once while the default retries", async () => {
    const { main, judge, server } = await startTwoProviders(
      {
        default: [{ match: { role: "ROOT", kind: "ANSWER", turn: 1 }, reply: { status: 503 } }],
        judge: [{ match: { role: "ROOT", kind: "CHALLENGE" }, reply: { status: 503 } }],
      },
      { maxRetries: 0 },
      { VEX_LLM_MAX_RETRIES: "2" },
    );
    const run = await runToEnd(server, { query: "q", maxDepth: 1, maxDebateRounds: 1 });
    expect(run).toMatchObject({ status: "FAILED", error: { code: "LLM_UNAVAILABLE" } });
    expect(main.requests.map((r) => [r.tag?.kind, r.attempt])).toEqual([
      ["ANSWER", 1],
      ["ANSWER", 2],
    ]);
    expect(judge.requests.map((r) => [r.tag?.kind, r.attempt])).toEqual([["CHALLENGE", 1]]);
  });

  it("gives each provider its own concurrency cap", async () => {
    // The two children's answers each wait for the other: they complete only if the default
    // provider lets both be in flight at once.
    let arrived = 0;
    let release = () => {};
    const bothArrived = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { main, judge, server } = await startTwoProviders(
      {
        default: async (req) => {
          if (req.tag?.kind === "ANSWER" && req.tag.role !== "ROOT") {
            if (++arrived === 2) release();
            await bothArrived;
          }
          return defaultFakeReply(req);
        },
        // Slow verdicts: the children's challenges, sent together, would overlap without the cap.
        judge: (req) => ({ ...(defaultFakeReply(req) as FakeContentReply), latencyMs: 100 }),
      },
      { maxConcurrency: 1 },
    );
    const run = await runToEnd(server, { query: "q", maxDepth: 2, agentsPerLevel: 2, maxDebateRounds: 1 });
    expect(run?.status).toBe("SUCCEEDED");
    expect(main.maxInFlight).toBeGreaterThanOrEqual(2);
    expect(judge.requests.filter((r) => r.tag?.kind === "CHALLENGE")).toHaveLength(3);
    expect(judge.maxInFlight).toBe(1);
  });

  it("counts the answers the debate changed, per agent, per run and in /metrics", async () => {
    const challenge = JSON.stringify({
      isChallenge: true,
      confidence: 0.8,
      reasoning: "The claim misses a case.",
      suggestedRevision: "Cover the missing case.",
    });
    const { server } = await startTwoProviders({
      judge: [
        { match: { role: "CRITIC", kind: "CHALLENGE", round: 1 }, reply: { content: challenge } },
        { match: { role: "CRITIC", kind: "CHALLENGE", round: 2 }, reply: { content: agreeVerdictJson() } },
      ],
    });
    const before = sample(await scrape(server.url), "vex_debate_changed_answers_total");
    const run = await runToEnd(server, { query: "q", maxDebateRounds: 2 });
    expect(run?.status).toBe("SUCCEEDED");
    const view = await routingOf(server, run?.id ?? "");
    expect(view.debateChangedAnswers).toBe(1);
    const changed = view.agents.filter((a) => a.result?.answerChanged).map((a) => a.role);
    expect(changed).toEqual(["CRITIC"]);
    expect(view.agents.find((a) => a.role === "CRITIC")?.result?.response).toMatch(/REBUTTAL/);
    expect(sample(await scrape(server.url), "vex_debate_changed_answers_total") - (before || 0)).toBe(1);
  });
});

describe("strict structured output per provider", () => {
  it("sends the verdict schema to a json_schema provider, which needs no repair", async () => {
    const { judge, server } = await startTwoProviders(
      // Prose as a script; a server decoding against the schema never returns it.
      { judge: [{ match: { kind: "CHALLENGE" }, reply: { content: "Looks right." } }] },
      { structuredOutput: "json_schema" },
    );
    const run = await runToEnd(server, { query: "q", maxDebateRounds: 1 });
    expect(run?.status).toBe("SUCCEEDED");
    const challenges = judge.requests.filter((r) => r.tag?.kind === "CHALLENGE");
    expect(challenges.length).toBe(run?.agents.length);
    for (const r of challenges) {
      expect(r.body?.response_format).toMatchObject({
        type: "json_schema",
        json_schema: { name: "shadow_verdict", strict: true, schema: { additionalProperties: false } },
      });
      expect(r.constrained).toBe(true);
    }
    expect(judge.requests.filter((r) => r.tag?.kind === "REPAIR")).toHaveLength(0);
    for (const agent of run?.agents ?? []) expect(agent.result?.debate.rounds[0]?.outcome).toBe("AGREED");
  });

  it("asks a provider configured with none by the prompt alone, and repairs a malformed verdict exactly once", async () => {
    const { judge, server } = await startTwoProviders(
      { judge: [{ match: { role: "CRITIC", kind: "CHALLENGE" }, reply: { content: "Looks right." } }] },
      { structuredOutput: "none" },
    );
    const run = await runToEnd(server, { query: "q", maxDebateRounds: 1 });
    expect(run?.status).toBe("SUCCEEDED");
    for (const r of judge.requests) expect(r.body).not.toHaveProperty("response_format");
    const repairs = judge.requests.filter((r) => r.tag?.kind === "REPAIR");
    expect(repairs.map((r) => r.tag?.role)).toEqual(["CRITIC"]);
    expect(run?.agents.find((a) => a.role === "CRITIC")?.result?.debate.rounds[0]?.outcome).toBe("AGREED");
  });

  it("sends the reflection and consolidation schemas to a json_schema provider over the real client", async () => {
    const fake = await startFakeOpenAi({
      // Prose as a script: only decoding against the schema turns it into a usable answer.
      script: [{ reply: { content: "I would raise precision." } }],
    });
    cleanups.push(() => fake.close());
    const llm = createOpenAiLlmClient({
      client: new OpenAI({ apiKey: "sk-test", baseURL: fake.url, maxRetries: 0 }),
      model: DEFAULT_MODEL,
      provider: "default",
      structuredOutput: "json_schema",
      contextHeaders: true,
    });
    const ctx = {
      llm,
      tenantId: "t",
      runId: "r",
      agentId: "a",
      role: "CRITIC" as const,
      signal: new AbortController().signal,
    };
    const reflection = await reflect(ctx, {
      query: "q",
      response: "a",
      traits: DEFAULT_TRAITS,
      fitness: 0.4,
      correlations: {},
      sampleSize: 5,
    });
    expect(reflection).toMatchObject({ ok: true, value: { adjustments: [] } });
    const rules = await consolidate(ctx, []);
    expect(rules).toEqual({ ok: true, value: [] });
    expect(
      fake.requests.map((r) => [r.tag?.kind, r.body?.response_format?.json_schema?.name, r.constrained]),
    ).toEqual([
      ["REFLECTION", "trait_reflection", true],
      ["CONSOLIDATION", "trait_rules", true],
    ]);
  });

  it("sends JSON mode, not the schema, to a provider left at the default (json_object)", async () => {
    const { judge, server } = await startTwoProviders({});
    const run = await runToEnd(server, { query: "q", maxDepth: 1, maxDebateRounds: 1 });
    expect(run?.status).toBe("SUCCEEDED");
    expect(judge.requests.map((r) => r.body?.response_format)).toEqual([{ type: "json_object" }]);
  });
});

describe("startup refusals", () => {
  it("refuses to start when a provider's key variable is unset, naming it", async () => {
    const judge = await startFakeOpenAi();
    cleanups.push(() => judge.close());
    const env = {
      OPENAI_BASE_URL: judge.url,
      VEX_LLM_PROVIDERS: JSON.stringify({ judge: { baseURL: judge.url, apiKeyEnv: "JUDGE_KEY" } }),
    };
    expect(() => loadConfig(env)).toThrow(/JUDGE_KEY: unset/);
    expect(judge.requests).toHaveLength(0);
  });
  it("VEX_LLM_CHECK checks every routed provider and names the one whose key is wrong", async () => {
    const main = await startFakeOpenAi();
    const judge = await startFakeOpenAi({ hosted: { apiKey: "sk-judge-right" } });
    cleanups.push(async () => {
      await main.close();
      await judge.close();
    });
    const env = (judgeKey: string) => ({
      OPENAI_BASE_URL: main.url,
      VEX_LLM_CHECK: "true",
      JUDGE_KEY: judgeKey,
      VEX_LLM_PROVIDERS: JSON.stringify({ judge: { baseURL: judge.url, apiKeyEnv: "JUDGE_KEY" } }),
      VEX_MODEL_ROUTES: JSON.stringify({ CHALLENGE: `judge:${JUDGE_MODEL}` }),
    });
    const refused = await startTestServer({ env: env("sk-wrong") }).then(
      async (s) => {
        await s.stop();
        return null;
      },
      (e: unknown) => e,
    );
    expect(String((refused as Error).message)).toMatch(
      new RegExp(
        `VEX_LLM_CHECK: the test request for model '${JUDGE_MODEL}' .*provider 'judge', key from JUDGE_KEY.*LLM_AUTH_FAILED`,
        "s",
      ),
    );
    expect(main.requests.map((r) => r.body?.model)).toEqual([DEFAULT_MODEL_CHECKED]);
    expect(judge.requests.map((r) => r.refused?.status)).toEqual([401]);

    const started = await startTestServer({ env: env("sk-judge-right") });
    cleanups.push(async () => {
      await started.stop();
      await removeDir(started.dataDir);
    });
    expect(judge.requests.map((r) => r.refused?.status ?? 200)).toEqual([401, 200]);
  });
});
