import { afterEach, describe, expect, it } from "vitest";
import {
  CancelOrchestrationDocument,
  OrchestrationDocument,
  StartOrchestrationDocument,
} from "../../client/generated/graphql.js";
import { DEFAULT_TRAITS, toLlmParams } from "../../src/domain/genome.js";
import { type FakeScript, startFakeOpenAi } from "../fakes/fake-openai-server.js";
import { request, runEvents } from "../support/graphql.js";
import { removeDir, startTestServer, type TestServer } from "../support/server.js";
import { waitFor } from "../support/wait.js";

/** The real server with the real openai client pointed at a fake OpenAI-compatible server. */
const setup = async (script: FakeScript, env: Record<string, string> = {}) => {
  const fake = await startFakeOpenAi({ script });
  const server = await startTestServer({
    env: { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: "sk-test", VEX_MODEL: "fake-model", ...env },
  });
  cleanups.push(async () => {
    await server.stop();
    await fake.close();
    await removeDir(server.dataDir);
  });
  return { fake, server };
};
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const runToEnd = async (
  server: TestServer,
  input: { query: string; maxDebateRounds?: number } = { query: "q" },
) => {
  const { startOrchestration: run } = await request(server.url, StartOrchestrationDocument, { input });
  await runEvents(server.wsUrl, { orchestrationId: run.id });
  return (await request(server.url, OrchestrationDocument, { id: run.id })).orchestration;
};

const badJson = { content: "Looks right to me." };

describe("runs over the real openai client", () => {
  it("sends every genome-derived parameter, the call tags and the stream flag on the wire", async () => {
    const { fake, server } = await setup([]);
    const run = await runToEnd(server);
    expect(run?.status).toBe("SUCCEEDED");
    const expected = toLlmParams(DEFAULT_TRAITS, 512);
    expect(fake.requests.length).toBeGreaterThanOrEqual(6);
    for (const r of fake.requests) {
      expect(r.body).toMatchObject({
        model: "fake-model",
        temperature: expected.temperature,
        top_p: expected.topP,
        presence_penalty: expected.presencePenalty,
        frequency_penalty: expected.frequencyPenalty,
        max_tokens: expected.maxTokens,
        stream: true,
      });
      expect(r.tag?.runId).toBe(run?.id);
      expect(run?.agents.map((a) => a.id)).toContain(r.tag?.agentId);
    }
    const challenges = fake.requests.filter((r) => r.tag?.kind === "CHALLENGE");
    expect(challenges.every((r) => r.body?.response_format?.type === "json_object")).toBe(true);
    expect(run?.model).toBe("fake-model");
    expect(run?.tokensUsed.totalTokens).toBeGreaterThan(0);
  });

  it("retries a 429 honouring Retry-After, then succeeds", async () => {
    const { fake, server } = await setup([
      { match: { role: "CRITIC", kind: "ANSWER", turn: 1 }, reply: { status: 429, retryAfterSeconds: 1 } },
    ]);
    const run = await runToEnd(server);
    expect(run?.status).toBe("SUCCEEDED");
    const critic = fake.requests.filter((r) => r.tag?.role === "CRITIC" && r.tag.kind === "ANSWER");
    expect(critic).toHaveLength(2);
    expect((critic[1]?.receivedAt ?? 0) - (critic[0]?.receivedAt ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it("fails the run with the cause when retries are exhausted", async () => {
    const { fake, server } = await setup(
      [{ match: { role: "CRITIC", kind: "ANSWER" }, reply: { status: 500 } }],
      {
        VEX_LLM_MAX_RETRIES: "1",
      },
    );
    const run = await runToEnd(server);
    expect(run?.status).toBe("FAILED");
    expect(run?.error?.code).toBe("LLM_UNAVAILABLE");
    expect(run?.error?.message).toMatch(/500/);
    expect(fake.requests.filter((r) => r.tag?.role === "CRITIC" && r.tag.kind === "ANSWER")).toHaveLength(2);
    expect(run?.agents.find((a) => a.role === "CRITIC")?.state).toBe("FAILED");
  });

  it("repairs malformed shadow JSON once, and never counts it as agreement when the repair fails", async () => {
    const { server } = await setup([
      { match: { role: "RESEARCHER", kind: "CHALLENGE" }, reply: badJson },
      { match: { role: "CRITIC", kind: "CHALLENGE" }, reply: badJson },
      { match: { role: "CRITIC", kind: "REPAIR" }, reply: badJson },
    ]);
    const run = await runToEnd(server, { query: "q", maxDebateRounds: 1 });
    expect(run?.status).toBe("SUCCEEDED");
    const researcher = run?.agents.find((a) => a.role === "RESEARCHER")?.result;
    expect(researcher?.debate.rounds[0]?.outcome).toBe("AGREED");
    const critic = run?.agents.find((a) => a.role === "CRITIC")?.result;
    expect(critic?.debate.rounds[0]).toMatchObject({ outcome: "UNVERIFIED", rawChallenge: badJson.content });
    expect(critic?.verified).toBe(false);
    expect(critic?.confidence).toBe(0.5);
  });

  it("times out a call that never answers", async () => {
    const { server } = await setup([{ match: { role: "CRITIC", kind: "ANSWER" }, reply: { hang: true } }], {
      VEX_LLM_TIMEOUT_MS: "400",
    });
    const run = await runToEnd(server);
    expect(run).toMatchObject({ status: "FAILED", error: { code: "LLM_TIMEOUT" } });
  });

  it("fails cleanly when a stream is dropped mid-way", async () => {
    const { server } = await setup([
      {
        match: { role: "RESEARCHER", kind: "ANSWER" },
        reply: { dropStreamAfterChunks: 2, content: "a b c d e f" },
      },
    ]);
    const run = await runToEnd(server);
    expect(run).toMatchObject({ status: "FAILED", error: { code: "LLM_OUTPUT_INVALID" } });
  });

  it("cancels within 2 s, aborting the hanging call and keeping completed results", async () => {
    const { fake, server } = await setup([
      { match: { role: "CRITIC", kind: "ANSWER" }, reply: { hang: true } },
    ]);
    const { startOrchestration: run } = await request(server.url, StartOrchestrationDocument, {
      input: { query: "q" },
    });
    await waitFor(async () => {
      const { orchestration } = await request(server.url, OrchestrationDocument, { id: run.id });
      return orchestration?.agents.find((a) => a.role === "RESEARCHER")?.state === "COMPLETED";
    });
    const started = Date.now();
    const { cancelOrchestration } = await request(server.url, CancelOrchestrationDocument, { id: run.id });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(cancelOrchestration.status).toBe("CANCELLED");
    const hanging = fake.requests.find((r) => r.tag?.role === "CRITIC" && r.tag.kind === "ANSWER");
    await waitFor(async () => hanging?.outcome === "client-closed");
    const { orchestration } = await request(server.url, OrchestrationDocument, { id: run.id });
    expect(orchestration?.agents.find((a) => a.role === "RESEARCHER")?.result?.response).toBeTruthy();
  });

  it("overlaps ten runs started at once at the LLM server", async () => {
    const RUNS = 10;
    const { fake, server } = await setup(
      [{ match: { kind: "ANSWER" }, reply: { content: "an answer", latencyMs: 1_500 } }],
      {
        VEX_LLM_MAX_CONCURRENCY_PER_TENANT: "32",
        VEX_LLM_MAX_CONCURRENCY: "32",
        VEX_MAX_CONCURRENT_RUNS_PER_TENANT: "10",
      },
    );
    const runs = await Promise.all(
      Array.from({ length: RUNS }, (_, i) =>
        request(server.url, StartOrchestrationDocument, { input: { query: `q${i}` } }),
      ),
    );
    const finals = await Promise.all(
      runs.map((r) => runEvents(server.wsUrl, { orchestrationId: r.startOrchestration.id })),
    );
    for (const events of finals) {
      expect(events.at(-1)?.data?.orchestrationEvents).toMatchObject({
        __typename: "RunFinished",
        status: "SUCCEEDED",
      });
    }
    expect(fake.maxInFlight).toBe(RUNS * 2);
  });
});
