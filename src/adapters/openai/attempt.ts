/** One HTTP request of a call (openai-llm-client.ts retries them): the body, the headers, the answer. */
import { createHash } from "node:crypto";
import type { OpenAI } from "openai";
import type { LlmCallOptions, LlmCallTag, LlmRequest, LlmResponse } from "../../ports/llm.js";
import type { ModelParams, ParamChange } from "./model-params.js";
import { parseCompletion, readCompletionStream } from "./response.js";
import type { RetryPolicy, RetryTiming } from "./retry.js";
import { responseFormat, type StructuredOutputMode } from "./structured-output.js";

/**
 * The request headers that carry the call's tag, sent only with `contextHeaders` (for a gateway that
 * attributes or routes by them); values are percent-encoded (ids stay as they are).
 */
export const VEX_HEADERS = {
  tenant: "X-Vex-Tenant",
  run: "X-Vex-Run",
  agent: "X-Vex-Agent",
  role: "X-Vex-Role",
  call: "X-Vex-Call",
  round: "X-Vex-Round",
  /** 1-based number of this HTTP request within the call (retries and resends count up). */
  attempt: "X-Vex-Attempt",
} as const;

/** Body fields that attribute a request to an end user: the hosted API's, and the older one other servers know. */
export const ATTRIBUTION_FIELDS = ["safety_identifier", "user"] as const;
export type AttributionField = (typeof ATTRIBUTION_FIELDS)[number];

/**
 * A stable, opaque id for a tenant: hex SHA-256 of the salt, a NUL and the tenant id. The provider
 * can tell tenants apart (abuse attribution) without learning who they are.
 */
export const tenantAttribution = (salt: string, tenantId: string): string =>
  createHash("sha256").update(`${salt}\u0000${tenantId}`).digest("hex");

/** What every request of one client sends and how its calls are timed and retried. */
export interface CallSettings {
  readonly client: OpenAI;
  readonly model: string;
  readonly params: ModelParams;
  readonly contextHeaders: boolean;
  readonly provider?: string;
  readonly structuredOutput: StructuredOutputMode;
  readonly attribution?: { readonly field: AttributionField; readonly salt: string };
  readonly onParamChange?: (change: ParamChange & { readonly message: string }) => void;
  readonly stream: boolean;
  readonly timeoutMs: number;
  readonly attemptTimeoutMs: number;
  readonly policy: RetryPolicy;
  readonly timing: RetryTiming;
}

/** How far one call has come: whether the caller has text, and the hook that stops the attempt timer. */
export interface Progress {
  tokensEmitted: boolean;
  /** Called once the server has started answering: a stream opened, or a token arrived. */
  responding: () => void;
}

/** Sends one request and reads its answer (streamed or whole), handing text to onToken. */
export const attemptOnce = async (
  s: CallSettings,
  request: LlmRequest,
  opts: LlmCallOptions,
  httpRequest: number,
  signal: AbortSignal,
  progress: Progress,
): Promise<LlmResponse> => {
  const sent = s.params.effective(request.params);
  const body = {
    model: s.model,
    messages: [
      { role: "system" as const, content: request.system },
      ...request.messages.map((m) => ({ role: m.role, content: m.content })),
    ],
    ...s.params.body(sent),
    ...(s.attribution
      ? { [s.attribution.field]: tenantAttribution(s.attribution.salt, request.tag.tenantId) }
      : {}),
    ...responseFormat(s.structuredOutput, request),
  };
  // maxRetries: 0 per request as well, so the SDK never retries (its waits ignore our signal).
  const requestOptions = {
    signal,
    ...(s.contextHeaders ? { headers: tagHeaders(request.tag, httpRequest) } : {}),
    maxRetries: 0,
  };
  if (!s.stream) {
    const completion: unknown = await s.client.chat.completions.create(
      { ...body, stream: false },
      requestOptions,
    );
    const response = parseCompletion(completion, s.model);
    emit(opts, response.content, progress);
    return { ...response, ...providerOf(s), params: sent };
  }
  const stream = await s.client.chat.completions.create(
    { ...body, stream: true, stream_options: { include_usage: true } },
    requestOptions,
  );
  progress.responding();
  const response = await readCompletionStream(stream, s.model, signal, (piece) =>
    emit(opts, piece, progress),
  );
  return { ...response, ...providerOf(s), params: sent };
};

const providerOf = (s: CallSettings) => (s.provider === undefined ? {} : { provider: s.provider });

const tagHeaders = (tag: LlmCallTag, httpRequest: number): Record<string, string> => ({
  [VEX_HEADERS.tenant]: encodeURIComponent(tag.tenantId),
  [VEX_HEADERS.run]: encodeURIComponent(tag.runId),
  [VEX_HEADERS.agent]: encodeURIComponent(tag.agentId),
  [VEX_HEADERS.role]: tag.role,
  [VEX_HEADERS.call]: tag.kind,
  [VEX_HEADERS.round]: String(tag.round),
  [VEX_HEADERS.attempt]: String(httpRequest),
});

/** Wraps an exception thrown by the caller's onToken so it is rethrown as is, not mapped to LLM_*. */
export class TokenListenerError extends Error {}

const emit = (opts: LlmCallOptions, text: string, progress: Progress): void => {
  if (!opts.onToken || text === "") return;
  if (!progress.tokensEmitted) progress.responding();
  progress.tokensEmitted = true;
  try {
    opts.onToken(text);
  } catch (e) {
    throw new TokenListenerError("onToken threw", { cause: e });
  }
};
