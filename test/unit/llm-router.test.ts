import { context } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLlmRouter } from "../../src/adapters/llm-router/llm-router.js";
import { instrumentLlm } from "../../src/adapters/metrics/instrument.js";
import { createMetrics } from "../../src/adapters/metrics/metrics.js";
import { traceLlm } from "../../src/adapters/telemetry/traced-llm.js";
import type { LlmClient } from "../../src/ports/llm.js";
import { ScriptedLlm } from "../fakes/scripted-llm.js";
import { createTestOrchestrator, drain } from "../support/orchestrator.js";

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const contextManager = new AsyncLocalStorageContextManager();
beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(async () => {
  context.disable();
  await provider.shutdown();
});

/** A scripted client reporting a model and profile of its own. */
const modelled = (model: string, profile: "classic" | "reasoning") => {
  const scripted = new ScriptedLlm();
  const client: LlmClient = {
    model,
    profile,
    complete: async (request, options) => ({ ...(await scripted.complete(request, options)), model }),
  };
  return { scripted, client };
};

describe("the LLM router under the metrics and tracing decorators", () => {
  it("sends each call to its route with the genome as that model's profile takes it, and traces the routed model", async () => {
    exporter.reset();
    const main = modelled("main-model", "classic");
    const judge = modelled("gpt-5-mini", "reasoning");
    const router = createLlmRouter({
      fallback: { provider: "default", model: "main-model" },
      routes: { CHALLENGE: { provider: "judge", model: "gpt-5-mini" } },
      clientFor: (t) => (t.provider === "judge" ? judge.client : main.client),
    });
    const metrics = createMetrics({
      connections: () => 0,
      subscriptions: () => 0,
      activeRuns: () => 0,
      queueDepth: async () => ({ waiting: 0, active: 0 }),
    });
    const llm = traceLlm(instrumentLlm(router, metrics), {
      tracer: provider.getTracer("test"),
      provider: "openai",
      content: false,
    });
    const { orchestrator, store } = await createTestOrchestrator(llm, { tracer: provider.getTracer("test") });
    const run = await orchestrator.start("acme", { query: "q", maxDebateRounds: 1 });
    await drain(await orchestrator.events("acme", run.id, 0));
    await orchestrator.shutdown(0);

    expect(judge.scripted.requests.map((r) => r.tag.kind)).toEqual(["CHALLENGE", "CHALLENGE", "CHALLENGE"]);
    expect(main.scripted.requests.some((r) => r.tag.kind === "CHALLENGE")).toBe(false);
    // Reasoning parameters for the judge, classic ones for the agents' own calls.
    for (const r of judge.scripted.requests) {
      expect(r.params.reasoningEffort).toBeDefined();
      expect(r.params.temperature).toBeUndefined();
    }
    for (const r of main.scripted.requests) {
      expect(r.params.temperature).toBeDefined();
      expect(r.params.reasoningEffort).toBeUndefined();
    }

    const agents = await store.agents.listByRun("acme", run.id);
    expect(agents).toHaveLength(3);
    for (const a of agents) {
      const calls = a.transcript.map((e) => [e.kind, e.response.provider, e.response.model]);
      expect(calls).toContainEqual(["CHALLENGE", "judge", "gpt-5-mini"]);
      expect(
        calls.filter((c) => c[0] !== "CHALLENGE").every((c) => c[1] === "default" && c[2] === "main-model"),
      ).toBe(true);
      // The agent's parameters are its own calls', not its shadow's.
      expect(a.llmParams?.temperature).toBeDefined();
      expect(a.llmParams?.reasoningEffort).toBeUndefined();
    }

    const chats = exporter.getFinishedSpans().filter((s) => s.attributes["gen_ai.operation.name"] === "chat");
    const challenge = chats.filter((s) => s.attributes["vex.llm.call_kind"] === "CHALLENGE");
    expect(challenge.length).toBe(3);
    for (const s of challenge) {
      expect(s.name).toBe("chat gpt-5-mini");
      expect(s.attributes).toMatchObject({
        "gen_ai.request.model": "gpt-5-mini",
        "vex.llm.provider": "judge",
      });
    }
    for (const s of chats.filter((c) => c.attributes["vex.llm.call_kind"] !== "CHALLENGE"))
      expect(s.attributes).toMatchObject({
        "gen_ai.request.model": "main-model",
        "vex.llm.provider": "default",
      });

    // Calls are counted by the provider that served them.
    const counted = (await metrics.llmCalls.get()).values.map((v) => [
      v.labels.kind,
      v.labels.provider,
      v.value,
    ]);
    expect(counted).toContainEqual(["CHALLENGE", "judge", 3]);
    expect(counted.filter((c) => c[0] !== "CHALLENGE").every((c) => c[1] === "default")).toBe(true);
    expect(counted.some((c) => c[0] === "ANSWER")).toBe(true);
  });
});
