import { context, SpanKind } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { traceLlm } from "../../src/adapters/telemetry/traced-llm.js";
import { openTracing } from "../../src/adapters/telemetry/tracing.js";
import { loadConfig } from "../../src/config.js";
import { ScriptedLlm } from "../fakes/scripted-llm.js";
import { createTestOrchestrator, drain } from "../support/orchestrator.js";

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  // What openTracing does for the server: spans follow the async call chain.
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(async () => {
  context.disable();
  await provider.shutdown();
});

const runTraced = async (content: boolean) => {
  exporter.reset();
  const tracer = provider.getTracer("test");
  const scripted = new ScriptedLlm();
  const llm = traceLlm(scripted, { tracer, provider: "openai", content });
  const { orchestrator } = await createTestOrchestrator(llm, { tracer });
  const run = await orchestrator.start("acme", { query: "what is traced?" });
  await drain(await orchestrator.events("acme", run.id, 0));
  await orchestrator.shutdown(0);
  return { run, spans: exporter.getFinishedSpans(), scripted };
};

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const byOperation = (spans: readonly ReadableSpan[], op: string) =>
  spans.filter((s) => s.attributes["gen_ai.operation.name"] === op);

describe("run tracing (GenAI semantic conventions)", () => {
  it("traces a run as invoke_workflow ⊃ invoke_agent (the tree of agents) ⊃ chat, in one trace", async () => {
    const { run, spans, scripted } = await runTraced(false);
    const [workflow, ...more] = byOperation(spans, "invoke_workflow");
    expect(more).toHaveLength(0);
    expect(workflow?.name).toBe("invoke_workflow");
    expect(workflow?.attributes).toMatchObject({ "vex.run.id": run.id, "vex.run.status": "SUCCEEDED" });

    const agents = byOperation(spans, "invoke_agent");
    expect(agents.map((a) => a.attributes["vex.leaf.index"]).sort()).toEqual([0, 1, 2]);
    const root = agents.find((a) => a.attributes["vex.leaf.index"] === 0);
    expect(root?.name).toBe("invoke_agent Root");
    expect(parentOf(root as ReadableSpan)).toBe(workflow?.spanContext().spanId);
    for (const child of agents.filter((a) => a !== root)) {
      expect(parentOf(child)).toBe(root?.spanContext().spanId);
    }

    const chats = byOperation(spans, "chat");
    expect(chats).toHaveLength(scripted.requests.length);
    for (const [i, chat] of chats.entries()) {
      const agent = agents.find((a) => a.spanContext().spanId === parentOf(chat));
      expect(chat.kind).toBe(SpanKind.CLIENT);
      expect(chat.attributes["vex.agent.id"]).toBe(agent?.attributes["vex.agent.id"]);
      expect(chat.attributes["vex.run.id"]).toBe(run.id);
      const request = scripted.requests.find(
        (r) =>
          r.tag.agentId === chat.attributes["vex.agent.id"] &&
          r.tag.kind === chat.attributes["vex.llm.call_kind"],
      );
      expect(request, `chat span ${i}`).toBeDefined();
      expect(chat.attributes).toMatchObject({
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": scripted.model,
        "gen_ai.request.temperature": request?.params.temperature,
        "gen_ai.request.top_p": request?.params.topP,
        "gen_ai.request.max_tokens": request?.params.maxTokens,
        "gen_ai.usage.input_tokens": 10,
        "gen_ai.usage.output_tokens": 5,
      });
    }
    const traceIds = new Set(spans.map((s) => s.spanContext().traceId));
    expect(traceIds.size).toBe(1);
  });

  it("keeps prompts and answers out of spans unless content tracing is on", async () => {
    const hasContent = (spans: readonly ReadableSpan[]) =>
      spans.some((s) => Object.values(s.attributes).some((v) => String(v).includes("what is traced?")));
    expect(hasContent((await runTraced(false)).spans)).toBe(false);
    const withContent = (await runTraced(true)).spans;
    expect(hasContent(withContent)).toBe(true);
    const answers = byOperation(withContent, "chat").filter(
      (s) => s.attributes["vex.llm.call_kind"] === "ANSWER",
    );
    expect(answers.every((s) => typeof s.attributes["gen_ai.output.messages"] === "string")).toBe(true);
  });
});

describe("tracing configuration (standard OTEL_* variables)", () => {
  it("is off unless an OTLP endpoint is set, and then nothing is traced", async () => {
    const config = loadConfig({});
    expect(config.tracing).toEqual({ kind: "off" });
    expect((await openTracing(config.tracing)).tracer).toBeUndefined();
    expect(
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318", OTEL_SDK_DISABLED: "true" }).tracing,
    ).toEqual({ kind: "off" });
  });

  it("sends traces to …/v1/traces of the general endpoint, or to the traces endpoint as given", () => {
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" }).tracing).toEqual({
      kind: "otlp",
      url: "http://collector:4318/v1/traces",
      protocol: "http/protobuf",
      headers: {},
      serviceName: "vex-graphql",
      content: false,
    });
    const specific = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://traces.example/ingest",
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20abc, x-team=core",
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: "x-team=traces",
      OTEL_SERVICE_NAME: "vex-eu",
      VEX_TRACE_CONTENT: "true",
    }).tracing;
    expect(specific).toEqual({
      kind: "otlp",
      url: "https://traces.example/ingest",
      protocol: "http/json",
      headers: { authorization: "Bearer abc", "x-team": "traces" },
      serviceName: "vex-eu",
      content: true,
    });
  });

  it("refuses gRPC and malformed header lists, naming the variable", () => {
    expect(() =>
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4317", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }),
    ).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL/);
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_HEADERS: "no-equals-sign" })).toThrow(
      /OTEL_EXPORTER_OTLP_HEADERS/,
    );
  });
});
