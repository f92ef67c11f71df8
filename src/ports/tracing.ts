/**
 * Tracing is OpenTelemetry's API itself: it is a facade whose spans cost nothing until a provider
 * is configured (src/adapters/telemetry). These are the attribute names our spans share.
 */
import { context, defaultTextMapGetter, defaultTextMapSetter, type Tracer, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";

export type { Tracer };

/** The instrumentation scope (tracer name) of this server's spans. */
export const INSTRUMENTATION_SCOPE = "vex-graphql";

/** OpenTelemetry GenAI semantic conventions used by this server's spans. */
export const GEN_AI = {
  operation: "gen_ai.operation.name",
  provider: "gen_ai.provider.name",
  requestModel: "gen_ai.request.model",
  temperature: "gen_ai.request.temperature",
  topP: "gen_ai.request.top_p",
  maxTokens: "gen_ai.request.max_tokens",
  presencePenalty: "gen_ai.request.presence_penalty",
  frequencyPenalty: "gen_ai.request.frequency_penalty",
  responseModel: "gen_ai.response.model",
  inputTokens: "gen_ai.usage.input_tokens",
  outputTokens: "gen_ai.usage.output_tokens",
  agentId: "gen_ai.agent.id",
  agentName: "gen_ai.agent.name",
  conversationId: "gen_ai.conversation.id",
  systemInstructions: "gen_ai.system_instructions",
  inputMessages: "gen_ai.input.messages",
  outputMessages: "gen_ai.output.messages",
  errorType: "error.type",
} as const;

/** GenAI operation names of our spans: a run, an agent, an LLM call. */
export const GEN_AI_OPERATIONS = {
  workflow: "invoke_workflow",
  agent: "invoke_agent",
  chat: "chat",
} as const;

/** This server's own attributes, on every span where the value is known. */
export const VEX_ATTRIBUTES = {
  runId: "vex.run.id",
  agentId: "vex.agent.id",
  leafIndex: "vex.leaf.index",
  callKind: "vex.llm.call_kind",
  debateRound: "vex.debate.round",
  /** The configured provider a call was routed to (VEX_LLM_PROVIDERS; "default" for OPENAI_*). */
  llmProvider: "vex.llm.provider",
} as const;

/**
 * The tracer of code that was given none: OpenTelemetry's global tracer, a no-op because this
 * server never registers a global provider (each server's own provider is passed explicitly).
 */
export const untraced: Tracer = trace.getTracer(INSTRUMENTATION_SCOPE);

/** W3C trace context (`traceparent`, `tracestate`) as it travels with a queued run. */
export type TraceCarrier = Readonly<Record<string, string>>;
const propagator = new W3CTraceContextPropagator();

/** The active span's W3C trace context, or undefined when nothing is traced. */
export const activeTraceCarrier = (): TraceCarrier | undefined => {
  const carrier: Record<string, string> = {};
  propagator.inject(context.active(), carrier, defaultTextMapSetter);
  return Object.keys(carrier).length > 0 ? carrier : undefined;
};

/** Runs `fn` with `carrier`'s span as the parent of the spans it starts (in this or another process). */
export const withTraceCarrier = <T>(carrier: TraceCarrier | undefined, fn: () => T): T =>
  carrier === undefined
    ? fn()
    : context.with(propagator.extract(context.active(), carrier, defaultTextMapGetter), fn);
