import type { LlmParams } from "../domain/genome.js";
import { type AgentRole, addUsage, NO_TOKENS, type TokenUsage } from "../domain/run.js";
import type { TranscriptEntry } from "../domain/transcript.js";
import { usageCounts } from "../domain/usage.js";
import type { LlmCallKind, LlmJsonSchema, LlmMessage, LlmResponse } from "../ports/llm.js";
import { withinBudget } from "./budget.js";
import { checkAborted, type RunContext } from "./run-context.js";

/** Calls in the agent's own voice; the others (CHALLENGE, REPAIR) are its shadow's. */
const OWN_VOICE: ReadonlySet<LlmCallKind> = new Set(["ANSWER", "SYNTHESIS", "REBUTTAL"]);

/** One LLM call of an agent or of its shadow. */
export interface AgentCall {
  readonly kind: LlmCallKind;
  readonly round: number;
  readonly system: string;
  readonly messages: LlmMessage[];
  readonly json: boolean;
  readonly schema?: LlmJsonSchema;
}

/** The LLM calls of one agent (its shadow's included), and what they add up to. */
export interface AgentCalls {
  /** Makes the call under the run's budget, streams its tokens, and records it in the transcript. */
  call(c: AgentCall): Promise<LlmResponse>;
  /** Every call made so far, in order. */
  readonly transcript: readonly TranscriptEntry[];
  /** Tokens the agent's calls used. */
  usage(): TokenUsage;
  /** The parameters the agent's own voice last carried (the model may refuse one mid-run). */
  sent(): LlmParams;
}

/**
 * The agent's calls: each with the parameters `paramsFor` gives its kind (a call routed to another
 * model gets the genome as that model takes it), its tokens published as they stream, its usage
 * counted for the agent and the run.
 */
export const createAgentCalls = (
  ctx: RunContext,
  agent: { readonly id: string; readonly role: AgentRole },
  params: LlmParams,
  paramsFor: (kind: LlmCallKind) => LlmParams,
): AgentCalls => {
  const { llm, bus, clock } = ctx.deps;
  const transcript: TranscriptEntry[] = [];
  let usage = NO_TOKENS;
  let sent = params;

  const call = async (c: AgentCall): Promise<LlmResponse> => {
    checkAborted(ctx.signal);
    const callParams = paramsFor(c.kind);
    const complete = () =>
      llm.complete(
        {
          system: c.system,
          messages: c.messages,
          params: callParams,
          json: c.json,
          ...(c.schema ? { schema: c.schema } : {}),
          tag: {
            tenantId: ctx.tenantId,
            runId: ctx.runId,
            agentId: agent.id,
            role: agent.role,
            kind: c.kind,
            round: c.round,
          },
        },
        {
          signal: ctx.signal,
          onToken: (text) =>
            void bus.publish("agentToken", ctx.runId, {
              runId: ctx.runId,
              agentId: agent.id,
              kind: c.kind,
              text,
              at: clock.now(),
            }),
        },
      );
    const response = await withinBudget(ctx.budget, callParams.maxTokens, ctx.signal, complete, (r) => {
      usage = addUsage(usage, r.usage);
      ctx.usage = addUsage(ctx.usage, r.usage);
    });
    const carried = response.params ?? callParams;
    // The agent's parameters are those of its own voice, not of the shadow judging it.
    if (OWN_VOICE.has(c.kind)) sent = carried;
    transcript.push({
      index: transcript.length,
      kind: c.kind,
      round: c.round,
      request: { system: c.system, messages: c.messages, params: { ...carried }, json: c.json },
      response: {
        content: response.content,
        model: response.model,
        ...(response.provider === undefined ? {} : { provider: response.provider }),
        usage: usageCounts(response.usage),
      },
    });
    return response;
  };

  return { call, transcript, usage: () => usage, sent: () => sent };
};
