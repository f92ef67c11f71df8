import type { LlmParams } from "../domain/genome.js";
import type { AgentRole, TokenUsage } from "../domain/run.js";

/** What an LLM call is for. Fakes script their answers by role and kind, never by prompt words. */
export const LLM_CALL_KINDS = [
  "ANSWER",
  "SYNTHESIS",
  "CHALLENGE",
  "REBUTTAL",
  "REPAIR",
  "REFLECTION",
  "CONSOLIDATION",
] as const;
export type LlmCallKind = (typeof LLM_CALL_KINDS)[number];

export interface LlmMessage {
  readonly role: "user" | "assistant";
  readonly content: string;
}

/** Who is calling and why; sent to OpenAI-compatible servers as X-Vex-* headers. */
export interface LlmCallTag {
  readonly tenantId: string;
  readonly runId: string;
  readonly agentId: string;
  readonly role: AgentRole;
  readonly kind: LlmCallKind;
  /** 1-based debate round for CHALLENGE / REBUTTAL / REPAIR calls, else 0. */
  readonly round: number;
}

export interface LlmRequest {
  readonly system: string;
  readonly messages: readonly LlmMessage[];
  readonly params: LlmParams;
  readonly tag: LlmCallTag;
  /** Ask the server for a JSON object (OpenAI `response_format: json_object`). */
  readonly json?: boolean;
}

export interface LlmResponse {
  readonly content: string;
  readonly model: string;
  readonly usage: TokenUsage;
}

export interface LlmCallOptions {
  readonly signal?: AbortSignal;
  /** Called with each streamed piece of text, when the adapter streams. */
  readonly onToken?: (text: string) => void;
}

/** The port every LLM adapter implements. Adapters throw AppError (LLM_*) or rethrow an abort. */
export interface LlmClient {
  /** Model name reported on every response; the offline provider's says "offline". */
  readonly model: string;
  complete(request: LlmRequest, options?: LlmCallOptions): Promise<LlmResponse>;
}
