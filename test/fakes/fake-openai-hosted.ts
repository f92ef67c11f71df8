/**
 * What the fake OpenAI server checks before its script answers, to behave like the hosted API: the
 * bearer key (401 invalid_api_key), the model (404 model_not_found) and, for a reasoning model, the
 * parameters such models refuse (400 unsupported_parameter / unsupported_value). The error bodies
 * have the hosted API's shape: {error: {message, type: "invalid_request_error", param, code}}.
 */

export interface FakeHostedOptions {
  /**
   * Behave like a hosted reasoning model (o-series, gpt-5): refuse max_tokens, a temperature other
   * than 1, top_p and the penalties; report reasoning tokens in usage.
   */
  readonly reasoning?: boolean;
  /** Accept only this bearer key; any other gets the hosted 401. */
  readonly apiKey?: string;
  /** Serve only these models; any other gets the hosted 404. */
  readonly models?: readonly string[];
}

/** A hosted-API error reply: its status and body. */
export interface HostedRefusal {
  readonly status: number;
  readonly body: {
    readonly error: {
      readonly message: string;
      readonly type: "invalid_request_error";
      readonly param: string | null;
      readonly code: string;
    };
  };
}

const refusal = (status: number, message: string, param: string | null, code: string): HostedRefusal => ({
  status,
  body: { error: { message, type: "invalid_request_error", param, code } },
});

/** Parameters hosted reasoning models refuse outright, in the order they are checked. */
const REFUSED_BY_REASONING = ["top_p", "presence_penalty", "frequency_penalty"] as const;

/** The hosted API's refusal of this request, or null when it would be served. */
export const hostedRefusal = (
  options: FakeHostedOptions,
  authorization: string | undefined,
  body: Readonly<Record<string, unknown>> | null,
): HostedRefusal | null => {
  if (options.apiKey !== undefined && authorization !== `Bearer ${options.apiKey}`) {
    const key = authorization?.replace(/^Bearer /, "") ?? "";
    return refusal(
      401,
      `Incorrect API key provided: ${key.slice(0, 6)}***. You can find your API key at https://platform.openai.com/account/api-keys.`,
      null,
      "invalid_api_key",
    );
  }
  const model = typeof body?.model === "string" ? body.model : "";
  if (options.models !== undefined && !options.models.includes(model)) {
    return refusal(
      404,
      `The model \`${model}\` does not exist or you do not have access to it.`,
      null,
      "model_not_found",
    );
  }
  if (!options.reasoning || body === null) return null;
  if (body.max_tokens !== undefined) {
    return refusal(
      400,
      "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
      "max_tokens",
      "unsupported_parameter",
    );
  }
  if (body.temperature !== undefined && body.temperature !== 1) {
    return refusal(
      400,
      `Unsupported value: 'temperature' does not support ${String(body.temperature)} with this model. Only the default (1) value is supported.`,
      "temperature",
      "unsupported_value",
    );
  }
  for (const param of REFUSED_BY_REASONING) {
    if (body[param] !== undefined) {
      return refusal(
        400,
        `Unsupported parameter: '${param}' is not supported with this model.`,
        param,
        "unsupported_parameter",
      );
    }
  }
  return null;
};

/** Reasoning tokens the fake reports per reasoning_effort, so usage shows the effort that was asked for. */
export const FAKE_REASONING_TOKENS: Readonly<Record<string, number>> = { low: 8, medium: 32, high: 128 };

/** Reasoning tokens of a request to a fake reasoning model (medium when no effort was sent). */
export const fakeReasoningTokens = (body: Readonly<Record<string, unknown>> | null): number =>
  FAKE_REASONING_TOKENS[typeof body?.reasoning_effort === "string" ? body.reasoning_effort : "medium"] ?? 0;
