/**
 * Error mapping of the OpenAI adapter: what an attempt's exception means (retryable or not, and
 * which LLM_* code), and the AppError a call finally rejects with.
 */
import { APIConnectionError, APIConnectionTimeoutError, APIError } from "openai";
import { AppError, ErrorCode, isAppError } from "../../domain/errors.js";
import { isRetryableStatus, parseRetryAfter, parseRetryAfterMs } from "./retry.js";

/** What went wrong in one attempt, and whether another attempt may help. */
export interface Failure {
  readonly code:
    | typeof ErrorCode.LlmUnavailable
    | typeof ErrorCode.LlmOutputInvalid
    | typeof ErrorCode.LlmTimeout
    | typeof ErrorCode.LlmRequestRejected
    | typeof ErrorCode.LlmAuthFailed
    | typeof ErrorCode.LlmModelNotFound;
  readonly retryable: boolean;
  readonly what: string;
  readonly status?: number;
  /** The request field the server named, when it named one. */
  readonly param?: string;
  /** What to change, for failures that configuration causes. */
  readonly hint?: string;
  /** How long the server asked us to wait (Retry-After / retry-after-ms), when it did. */
  readonly serverAskMs?: number;
  readonly cause: unknown;
}

/** Error codes of a 400 that names a parameter (or value) the model does not take. */
const UNSUPPORTED_CODES = ["unsupported_parameter", "unsupported_value"];
/** Quoted field name in messages of servers that send no `param` ("Unsupported parameter: 'top_p' …"). */
const UNSUPPORTED_MESSAGE = /Unsupported (?:parameter|value): '([a-z_]+)'/;

/**
 * The request field a 400 says the model does not take, or undefined when the error is anything else.
 * The hosted API sends {type: "invalid_request_error", param, code: "unsupported_parameter" |
 * "unsupported_value"}; some compatible servers only say so in the message.
 */
export const unsupportedParam = (e: unknown): string | undefined => {
  if (!(e instanceof APIError) || e.status !== 400) return undefined;
  if (typeof e.code === "string" && UNSUPPORTED_CODES.includes(e.code) && e.param) return e.param;
  return UNSUPPORTED_MESSAGE.exec(e.message)?.[1];
};

/** A 429 that waiting cannot fix: the account has no quota left. */
const QUOTA_CODE = "insufficient_quota";

/** The non-transient HTTP errors: bad credentials, an unknown model, any other refused request. */
const rejection = (e: APIError & { status: number }, model: string): Failure => {
  const base = {
    retryable: false,
    what: `HTTP ${e.status}: ${e.message}`,
    status: e.status,
    ...(e.param ? { param: e.param } : {}),
    cause: e,
  };
  if (e.status === 401 || e.status === 403) {
    return {
      ...base,
      code: ErrorCode.LlmAuthFailed,
      hint: "Set OPENAI_API_KEY to a key this server accepts (and OPENAI_BASE_URL if it is not the server you meant)",
    };
  }
  if (e.status === 404 && (e.code === "model_not_found" || /model/i.test(e.message))) {
    return {
      ...base,
      code: ErrorCode.LlmModelNotFound,
      hint: `Set VEX_MODEL to a model this server serves (now '${model}'), or OPENAI_BASE_URL to the server that serves it`,
    };
  }
  return {
    ...base,
    code: ErrorCode.LlmRequestRejected,
    ...(e.status === 404
      ? { hint: "Check OPENAI_BASE_URL (an OpenAI-compatible base URL usually ends in /v1)" }
      : {}),
  };
};

/**
 * Maps an attempt's exception; the caller has already ruled out the outer abort and the call deadline.
 * Timed-out attempts, connection failures, 429 (but not an exhausted quota) and 5xx are retryable;
 * other HTTP errors are final, mapped to LLM_AUTH_FAILED (401/403), LLM_MODEL_NOT_FOUND (404 for the
 * model) or LLM_REQUEST_REJECTED; AppErrors (invalid output) and failures reading the body are final.
 */
export const classify = (
  e: unknown,
  attemptTimedOut: boolean,
  attemptTimeoutMs: number,
  nowMs: number,
  model: string,
): Failure => {
  if (attemptTimedOut || e instanceof APIConnectionTimeoutError) {
    const what = `no answer within the ${attemptTimeoutMs} ms attempt timeout`;
    return { code: ErrorCode.LlmTimeout, retryable: true, what, cause: e };
  }
  if (isAppError(e)) return { code: ErrorCode.LlmOutputInvalid, retryable: false, what: e.message, cause: e };
  if (e instanceof APIConnectionError) {
    return {
      code: ErrorCode.LlmUnavailable,
      retryable: true,
      what: `connection failed (${e.message})`,
      cause: e,
    };
  }
  if (e instanceof APIError) {
    if (e.status === undefined) {
      return {
        code: ErrorCode.LlmUnavailable,
        retryable: false,
        what: `server reported an error: ${e.message}`,
        cause: e,
      };
    }
    if (!isRetryableStatus(e.status) || e.code === QUOTA_CODE) {
      return rejection(e as APIError & { status: number }, model);
    }
    const serverAskMs =
      parseRetryAfterMs(e.headers?.get("retry-after-ms")) ??
      parseRetryAfter(e.headers?.get("retry-after"), nowMs);
    return {
      code: ErrorCode.LlmUnavailable,
      retryable: true,
      what: `HTTP ${e.status}: ${e.message}`,
      status: e.status,
      ...(serverAskMs === undefined ? {} : { serverAskMs }),
      cause: e,
    };
  }
  // Anything else was thrown after the response headers arrived, while reading the body:
  // invalid JSON (SyntaxError) or a connection that closed mid-way (undici's "terminated").
  const reason = e instanceof SyntaxError ? "body is not valid JSON" : "body ended before it was complete";
  const message = e instanceof Error ? e.message : String(e);
  return {
    code: ErrorCode.LlmOutputInvalid,
    retryable: false,
    what: `LLM response ${reason} (${message})`,
    cause: e,
  };
};

/**
 * The AppError a call rejects with after its last attempt failed: the failure's own AppError for
 * invalid output, else one whose message gives the attempt count and whether retrying could help.
 */
export const finalError = (f: Failure, attempt: number, maxAttempts: number): AppError => {
  if (isAppError(f.cause) && f.code === ErrorCode.LlmOutputInvalid) return f.cause;
  const attempts = `${attempt} attempt${attempt === 1 ? "" : "s"}`;
  const tail = f.retryable ? `after ${attempts} (max ${maxAttempts})` : `not retryable; ${attempts}`;
  const param = f.param ? ` (parameter '${f.param}')` : "";
  const hint = f.hint ? ` ${f.hint}.` : "";
  return new AppError(f.code, `${LEADS[f.code]}: ${f.what}${param} (${tail}).${hint}`, {
    cause: f.cause,
    details: {
      attempts: attempt,
      ...(f.status === undefined ? {} : { status: f.status }),
      ...(f.param === undefined ? {} : { param: f.param }),
    },
  });
};

const LEADS: Readonly<Record<Failure["code"], string>> = {
  LLM_TIMEOUT: "LLM request timed out",
  LLM_OUTPUT_INVALID: "LLM output invalid",
  LLM_UNAVAILABLE: "LLM unavailable",
  LLM_REQUEST_REJECTED: "LLM server rejected the request",
  LLM_AUTH_FAILED: "LLM server refused the credentials",
  LLM_MODEL_NOT_FOUND: "LLM server does not serve the model",
};

/** LLM_TIMEOUT for a call whose whole deadline (`timeoutMs`) passed during `attempt`. */
export const callTimeout = (timeoutMs: number, attempt: number, cause: unknown): AppError =>
  new AppError(
    ErrorCode.LlmTimeout,
    `LLM call timed out after ${timeoutMs} ms (during attempt ${attempt}).`,
    {
      cause,
      details: { attempts: attempt, timeoutMs },
    },
  );

/** The error of a call aborted by its caller: the abort reason if it is an AppError, else CANCELLED. */
export const cancelled = (reason: unknown): AppError =>
  isAppError(reason) ? reason : new AppError(ErrorCode.Cancelled, "LLM call cancelled.", { cause: reason });
