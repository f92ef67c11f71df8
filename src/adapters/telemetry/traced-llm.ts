import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { LlmClient } from "../../ports/llm.js";
import { GEN_AI, GEN_AI_OPERATIONS, type Tracer, VEX_ATTRIBUTES } from "../../ports/tracing.js";
import { passThrough } from "../shared/llm-decorator.js";

export interface TracedLlmOptions {
  readonly tracer: Tracer;
  /** gen_ai.provider.name of the wrapped client (e.g. "openai"). */
  readonly provider: string;
  /** Whether spans carry the prompt and the answer (VEX_TRACE_CONTENT). */
  readonly content: boolean;
}

const codeOf = (e: unknown) =>
  typeof e === "object" && e !== null && "code" in e && typeof e.code === "string" ? e.code : "_OTHER";

/**
 * The LLM port with a `chat` span per call (GenAI semantic conventions): what was asked of which
 * model with which sampling parameters, what it cost, and which run and agent asked. The span is a
 * child of the agent's `invoke_agent` span. Prompts and answers only with `content`.
 */
export const traceLlm = (llm: LlmClient, options: TracedLlmOptions): LlmClient => ({
  ...passThrough(llm),
  complete: (request, callOptions) => {
    const route = llm.routeFor?.(request.tag.role, request.tag.kind);
    const model = route?.model ?? llm.model;
    return options.tracer.startActiveSpan(
      `${GEN_AI_OPERATIONS.chat} ${model}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          [GEN_AI.operation]: GEN_AI_OPERATIONS.chat,
          [GEN_AI.provider]: options.provider,
          [GEN_AI.requestModel]: model,
          ...(route ? { [VEX_ATTRIBUTES.llmProvider]: route.provider } : {}),
          [GEN_AI.temperature]: request.params.temperature,
          [GEN_AI.topP]: request.params.topP,
          [GEN_AI.maxTokens]: request.params.maxTokens,
          [GEN_AI.presencePenalty]: request.params.presencePenalty,
          [GEN_AI.frequencyPenalty]: request.params.frequencyPenalty,
          [GEN_AI.agentId]: request.tag.agentId,
          [GEN_AI.conversationId]: request.tag.runId,
          [VEX_ATTRIBUTES.runId]: request.tag.runId,
          [VEX_ATTRIBUTES.agentId]: request.tag.agentId,
          [VEX_ATTRIBUTES.callKind]: request.tag.kind,
          [VEX_ATTRIBUTES.debateRound]: request.tag.round,
          ...(options.content
            ? {
                [GEN_AI.systemInstructions]: request.system,
                [GEN_AI.inputMessages]: JSON.stringify(request.messages),
              }
            : {}),
        },
      },
      async (span) => {
        try {
          const response = await llm.complete(request, callOptions);
          span.setAttributes({
            [GEN_AI.responseModel]: response.model,
            [GEN_AI.inputTokens]: response.usage.promptTokens,
            [GEN_AI.outputTokens]: response.usage.completionTokens,
            ...(options.content
              ? {
                  [GEN_AI.outputMessages]: JSON.stringify([{ role: "assistant", content: response.content }]),
                }
              : {}),
          });
          return response;
        } catch (e) {
          span.setAttribute(GEN_AI.errorType, codeOf(e));
          span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
          throw e;
        } finally {
          span.end();
        }
      },
    );
  },
});
