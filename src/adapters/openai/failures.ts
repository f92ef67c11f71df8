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
    | typeof ErrorCode.LlmTimeout;
  readonly retryable: boolean;
  readonly what: string;
  readonly status?: number;
  /** How long the server asked us to wait (Retry-After / retry-after-ms), when it did. */
  readonly serverAskMs?: number;
  readonly cause: unknown;
}

/**
 * Maps an attempt's exception; the caller has already ruled out the outer abort and the call deadline.
 * Timed-out attempts, connection failures, 429 and 5xx are retryable; other HTTP errors, AppErrors
 * (invalid output) and failures while reading the body are not.
 */
export const classify = (
  e: unknown,
  attemptTimedOut: boolean,
  attemptTimeoutMs: number,
  nowMs: number,
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
    const serverAskMs =
      parseRetryAfterMs(e.headers?.get("retry-after-ms")) ??
      parseRetryAfter(e.headers?.get("retry-after"), nowMs);
    return {
      code: ErrorCode.LlmUnavailable,
      retryable: isRetryableStatus(e.status),
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
  const lead =
    f.code === ErrorCode.LlmTimeout
      ? "LLM request timed out"
      : f.code === ErrorCode.LlmOutputInvalid
        ? "LLM output invalid"
        : "LLM unavailable";
  return new AppError(f.code, `${lead}: ${f.what} (${tail}).`, {
    cause: f.cause,
    details: { attempts: attempt, ...(f.status === undefined ? {} : { status: f.status }) },
  });
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
