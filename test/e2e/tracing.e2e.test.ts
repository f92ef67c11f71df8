import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { StartOrchestrationDocument } from "../../client/generated/graphql.js";
import { startFakeOpenAi } from "../fakes/fake-openai-server.js";
import { type ReceivedSpan, startOtlpReceiver } from "../fakes/otlp-receiver.js";
import { request, runEvents } from "../support/graphql.js";
import { removeDir, startTestServer } from "../support/server.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const QUESTION = "which spans does a traced run export?";

/**
 * The real server with the real openai client (against the fake OpenAI server), exporting to a
 * real OTLP/HTTP receiver. One run is started by a caller that sends a W3C traceparent; the server
 * is stopped, which flushes its span batch, and the receiver's spans are returned.
 */
const tracedRun = async (env: Record<string, string>) => {
  const receiver = await startOtlpReceiver();
  const fake = await startFakeOpenAi();
  const server = await startTestServer({
    env: {
      OPENAI_BASE_URL: fake.url,
      OPENAI_API_KEY: "sk-test",
      VEX_MODEL: "fake-model",
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_HEADERS: "x-collector-key=s%20ecret",
      OTEL_SERVICE_NAME: "vex-under-test",
      ...env,
    },
  });
  cleanups.push(async () => {
    await fake.close();
    await receiver.close();
    await removeDir(server.dataDir);
  });
  const traceId = randomBytes(16).toString("hex");
  const callerSpanId = randomBytes(8).toString("hex");
  const { startOrchestration: run } = await request(
    server.url,
    StartOrchestrationDocument,
    { input: { query: QUESTION } },
    { traceparent: `00-${traceId}-${callerSpanId}-01` },
  );
  await runEvents(server.wsUrl, { orchestrationId: run.id });
  await server.stop();
  return { receiver, fake, run, traceId, callerSpanId, spans: receiver.spans() };
};

const operation = (spans: readonly ReceivedSpan[], name: string) =>
  spans.filter((s) => s.attributes["gen_ai.operation.name"] === name);

describe.each(["http/json", "http/protobuf"])("OpenTelemetry traces over OTLP %s", (protocol) => {
  it("continue the caller's trace through the run, its agents and every LLM call", async () => {
    const { receiver, fake, run, traceId, callerSpanId, spans } = await tracedRun({
      OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
    });
    expect(receiver.exports.length).toBeGreaterThan(0);
    for (const e of receiver.exports) {
      expect(e.contentType).toContain(
        protocol === "http/json" ? "application/json" : "application/x-protobuf",
      );
      expect(e.headers["x-collector-key"]).toBe("s ecret");
    }
    expect(spans.every((s) => s.resource["service.name"] === "vex-under-test")).toBe(true);

    const mutation = spans.find((s) => s.name === "mutation StartOrchestration");
    expect(mutation).toMatchObject({
      traceId,
      parentSpanId: callerSpanId,
      attributes: { "graphql.operation.type": "mutation", "graphql.operation.name": "StartOrchestration" },
    });
    const [workflow, ...others] = operation(spans, "invoke_workflow");
    expect(others).toHaveLength(0);
    expect(workflow).toMatchObject({
      traceId,
      parentSpanId: mutation?.spanId,
      attributes: { "vex.run.id": run.id },
    });

    const agents = operation(spans, "invoke_agent");
    expect(agents).toHaveLength(3);
    const root = agents.find((a) => a.attributes["vex.leaf.index"] === 0);
    expect(root?.parentSpanId).toBe(workflow?.spanId);
    expect(agents.filter((a) => a.parentSpanId === root?.spanId)).toHaveLength(2);

    const chats = operation(spans, "chat");
    expect(chats).toHaveLength(fake.requests.length);
    const agentIds = new Set(agents.map((a) => a.spanId));
    for (const chat of chats) {
      expect(chat.traceId).toBe(traceId);
      expect(agentIds.has(chat.parentSpanId)).toBe(true);
      expect(chat.name).toBe("chat fake-model");
      expect(chat.attributes).toMatchObject({
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "fake-model",
        "gen_ai.response.model": "fake-model",
        "vex.run.id": run.id,
      });
      expect(typeof chat.attributes["vex.agent.id"]).toBe("string");
      expect(chat.attributes["gen_ai.usage.output_tokens"]).toBeGreaterThan(0);
    }
    // What went on the wire is what the spans say was requested.
    const sent = fake.requests.map((r) => [r.body?.temperature, r.body?.top_p, r.body?.max_tokens].join());
    const traced = chats.map((c) =>
      [
        c.attributes["gen_ai.request.temperature"],
        c.attributes["gen_ai.request.top_p"],
        c.attributes["gen_ai.request.max_tokens"],
      ].join(),
    );
    expect(traced.sort()).toEqual(sent.sort());
    // No prompt or answer text unless VEX_TRACE_CONTENT=true.
    expect(spans.some((s) => Object.values(s.attributes).some((v) => String(v).includes(QUESTION)))).toBe(
      false,
    );
  });
});

describe("OpenTelemetry traces with VEX_TRACE_CONTENT=true", () => {
  it("carry the prompts and answers of LLM calls", async () => {
    const { spans } = await tracedRun({ VEX_TRACE_CONTENT: "true" });
    const answers = operation(spans, "chat").filter((s) => s.attributes["vex.llm.call_kind"] === "ANSWER");
    expect(answers).toHaveLength(2);
    for (const a of answers) {
      expect(String(a.attributes["gen_ai.input.messages"])).toContain(QUESTION);
      expect(JSON.parse(String(a.attributes["gen_ai.output.messages"]))).toEqual([
        { role: "assistant", content: expect.any(String) },
      ]);
    }
  });
});
