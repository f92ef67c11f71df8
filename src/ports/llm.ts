import type { LlmParams, ModelProfile } from "../domain/genome.js";
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
  /** The one tiny request VEX_LLM_CHECK makes at startup. */
  "CHECK",
] as const;
export type LlmCallKind = (typeof LLM_CALL_KINDS)[number];

export interface LlmMessage {
  readonly role: "user" | "assistant";
  readonly content: string;
}

/**
 * Who is calling and why. Adapters use it for per-tenant limits; the OpenAI adapter sends it as
 * X-Vex-* headers only when asked to (VEX_LLM_CONTEXT_HEADERS).
 */
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
  /**
   * The JSON schema the answer must match, for providers configured for strict structured output
   * (`response_format: json_schema`); others get `json` as above and the prompt's instructions.
   */
  readonly schema?: LlmJsonSchema;
}

/** A named JSON schema (OpenAI strict mode: every property required, no additional properties). */
export interface LlmJsonSchema {
  /** Letters, digits, '_' and '-' only. */
  readonly name: string;
  readonly schema: Readonly<Record<string, unknown>>;
}

/** Which provider and model serve a call, and what that model takes. */
export interface LlmRoute {
  /** Configured provider name (VEX_LLM_PROVIDERS; the unnamed one is "default"). */
  readonly provider: string;
  readonly model: string;
  readonly profile: ModelProfile;
  /** The parameters a request with `params` carries on this model now. */
  effectiveParams(params: LlmParams): LlmParams;
}

export interface LlmResponse {
  readonly content: string;
  readonly model: string;
  /** The provider that answered (configured name); absent for adapters without providers. */
  readonly provider?: string;
  readonly usage: TokenUsage;
  /**
   * The parameters the request actually carried: the request's, less those the model's profile
   * does not take and those it refused. Absent: exactly the request's params.
   */
  readonly params?: LlmParams;
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
  /** Which parameters the model takes (genome.ts ModelProfile). Absent: classic. */
  readonly profile?: ModelProfile;
  /**
   * The parameters a request with `params` would carry now (profile and refused parameters
   * applied), so a caller can state in the prompt what no parameter expresses. Absent: `params`.
   */
  effectiveParams?(params: LlmParams): LlmParams;
  /**
   * Where calls of this role and kind go (a client that routes by role and kind). Absent: every
   * call goes to `model` with `profile` and `effectiveParams`.
   */
  routeFor?(role: AgentRole, kind: LlmCallKind): LlmRoute;
  complete(request: LlmRequest, options?: LlmCallOptions): Promise<LlmResponse>;
}
