import { afterEach, describe, expect, it } from "vitest";
import {
  CancelOrchestrationDocument,
  OrchestrationDocument,
  StartOrchestrationDocument,
} from "../../client/generated/graphql.js";
import {
  DEFAULT_REASONING_BASE_MAX_TOKENS,
  DEFAULT_TRAITS,
  toLlmParams,
  toReasoningParams,
} from "../../src/domain/genome.js";
import { defaultFakeReply, type FakeScript, type RecordedRequest } from "../fakes/fake-openai-server.js";
import { request, runEvents } from "../support/graphql.js";
import { LLM_MODES, type LlmMode, runToEnd, startOpenAiServer } from "../support/openai-server.js";
import { waitFor } from "../support/wait.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** The body fields the default genome sets on a model of this mode's profile. */
const defaultGenomeOnTheWire = (mode: LlmMode): Record<string, unknown> => {
  if (mode.profile === "reasoning") {
    const p = toReasoningParams(DEFAULT_TRAITS, DEFAULT_REASONING_BASE_MAX_TOKENS);
    return {
      reasoning_effort: p.reasoningEffort,
      verbosity: p.verbosity,
      max_completion_tokens: p.maxTokens,
    };
  }
  const p = toLlmParams(DEFAULT_TRAITS, 512);
  return {
    temperature: p.temperature,
    top_p: p.topP,
    presence_penalty: p.presencePenalty,
    frequency_penalty: p.frequencyPenalty,
    max_tokens: p.maxTokens,
  };
};

const badJson = { content: "Looks right to me." };

describe.each(LLM_MODES)("runs over the real openai client against $name", (mode) => {
  const setup = (script: FakeScript, env: Record<string, string> = {}) =>
    startOpenAiServer(cleanups, script, env, mode);

  it("sends every genome-derived parameter, the call tags and the stream flag on the wire", async () => {
    const { fake, server } = await setup([]);
    const run = await runToEnd(server);
    expect(run?.status).toBe("SUCCEEDED");
    expect(fake.requests.length).toBeGreaterThanOrEqual(6);
    const others = [
      "max_tokens",
      "max_completion_tokens",
      "temperature",
      "top_p",
      "reasoning_effort",
      "verbosity",
    ];
    const expected = defaultGenomeOnTheWire(mode);
    for (const r of fake.requests) {
      expect(r.refused).toBeNull();
      expect(r.body).toMatchObject({ model: mode.model, stream: true, ...expected });
      for (const field of others.filter((f) => !(f in expected))) expect(r.body).not.toHaveProperty(field);
      expect(r.tag?.runId).toBe(run?.id);
      expect(run?.agents.map((a) => a.id)).toContain(r.tag?.agentId);
    }
    // A reasoning model has no parameter for exploration, creativity and skepticism: the prompt states them.
    const system = fake.requests[0]?.body?.messages?.[0]?.content ?? "";
    const stated = ["- exploration 0.50", "- creativity 0.50", "- skepticism 0.50"];
    for (const line of stated) expect(system.includes(line)).toBe(mode.profile === "reasoning");
    const challenges = fake.requests.filter((r) => r.tag?.kind === "CHALLENGE");
    expect(challenges.every((r) => r.body?.response_format?.type === "json_object")).toBe(true);
    expect(run?.model).toBe(mode.model);
    expect(run?.tokensUsed.totalTokens).toBeGreaterThan(0);
    if (mode.profile === "reasoning") expect(run?.tokensUsed.reasoningTokens).toBeGreaterThan(0);
    else expect(run?.tokensUsed.reasoningTokens).toBe(0);
  });

  it("retries a hung first attempt after the attempt timeout, and the run succeeds", async () => {
    const { fake, server } = await setup(
      [{ match: { role: "CRITIC", kind: "ANSWER", turn: 1 }, reply: { hang: true } }],
      { VEX_LLM_ATTEMPT_TIMEOUT_MS: "300" },
    );
    const run = await runToEnd(server);
    expect(run?.status).toBe("SUCCEEDED");
    const critic = fake.requests.filter((r) => r.tag?.role === "CRITIC" && r.tag.kind === "ANSWER");
    expect(critic.map((r) => [r.attempt, r.outcome])).toEqual([
      [1, "client-closed"],
      [2, "answered"],
    ]);
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

  it("cancels, aborting the hanging call and keeping completed results", async () => {
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
    // The call would hang for the whole 60 s call deadline: only the cancel's abort can close it.
    const { cancelOrchestration } = await request(server.url, CancelOrchestrationDocument, { id: run.id });
    expect(cancelOrchestration.status).toBe("CANCELLED");
    const hanging = fake.requests.find((r) => r.tag?.role === "CRITIC" && r.tag.kind === "ANSWER");
    await waitFor(async () => hanging?.outcome === "client-closed");
    const { orchestration } = await request(server.url, OrchestrationDocument, { id: run.id });
    expect(orchestration?.agents.find((a) => a.role === "RESEARCHER")?.result?.response).toBeTruthy();
  });

  it("overlaps ten runs started at once at the LLM server", async () => {
    const RUNS = 10;
    // Every ANSWER waits until all of them have arrived: the only way to pass is to have them in flight at once.
    const answers: RecordedRequest[] = [];
    let allArrived: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      allArrived = resolve;
    });
    const { fake, server } = await setup(
      async (req) => {
        if (req.tag?.kind !== "ANSWER") return defaultFakeReply(req);
        answers.push(req);
        if (answers.length === RUNS * 2) allArrived();
        await gate;
        return { content: "an answer" };
      },
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
