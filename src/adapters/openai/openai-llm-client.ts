import type { OpenAI } from "openai";
import { LLM_PARAM_NAMES, type ModelProfile } from "../../domain/genome.js";
import type { LlmCallOptions, LlmClient, LlmRequest, LlmResponse } from "../../ports/llm.js";
import {
  type AttributionField,
  attemptOnce,
  type CallSettings,
  type Progress,
  TokenListenerError,
} from "./attempt.js";
import { KeyedSemaphore, linkSignals, Semaphore } from "./concurrency.js";
import {
  DEFAULT_LLM_ATTEMPT_TIMEOUT_MS,
  DEFAULT_LLM_TIMEOUT_MS,
  DEFAULT_MAX_CONCURRENCY,
  DEFAULT_MAX_CONCURRENCY_PER_TENANT,
} from "./defaults.js";
import { callTimeout, cancelled, classify, type Failure, finalError, unsupportedParam } from "./failures.js";
import { ModelParams, type ParamChange, resolveModelProfile, type TokenLimitField } from "./model-params.js";
import {
  defaultRetryTiming,
  type RetryPolicy,
  type RetryTiming,
  resolveRetryPolicy,
  retryDelayMs,
} from "./retry.js";
import { DEFAULT_STRUCTURED_OUTPUT, type StructuredOutputMode } from "./structured-output.js";

export {
  ATTRIBUTION_FIELDS,
  type AttributionField,
  tenantAttribution,
  VEX_HEADERS,
} from "./attempt.js";
export {
  DEFAULT_STRUCTURED_OUTPUT,
  STRUCTURED_OUTPUT_MODES,
  type StructuredOutputMode,
} from "./structured-output.js";

export interface OpenAiLlmClientOptions {
  /** The SDK client. The composition root owns it; build it with `maxRetries: 0` (this adapter retries). */
  readonly client: OpenAI;
  /** Model name sent with every request. */
  readonly model: string;
  /** Configured name of the provider, reported on every response. @default none */
  readonly provider?: string;
  /** How JSON answers are asked for. @default DEFAULT_STRUCTURED_OUTPUT */
  readonly structuredOutput?: StructuredOutputMode;
  /** Deadline of a whole call (see DEFAULT_LLM_TIMEOUT_MS). @default DEFAULT_LLM_TIMEOUT_MS (60_000) */
  readonly timeoutMs?: number;
  /**
   * Deadline of one HTTP attempt until the server starts answering (see DEFAULT_LLM_ATTEMPT_TIMEOUT_MS);
   * a timed-out attempt is retried while the call's deadline allows.
   * @default min(DEFAULT_LLM_ATTEMPT_TIMEOUT_MS, timeoutMs)
   */
  readonly attemptTimeoutMs?: number;
  /** The model's parameter profile. @default resolveModelProfile(model) (built in by name) */
  readonly profile?: ModelProfile;
  /**
   * Body field of the completion budget. @default "max_completion_tokens" for the reasoning
   * profile, else "max_tokens". A server that refuses the one sent gets the other from then on.
   */
  readonly tokenLimitField?: TokenLimitField;
  /** Send the call's tag as X-Vex-* headers (tenant, run and agent ids included). @default false */
  readonly contextHeaders?: boolean;
  /**
   * Attribute each request to its tenant through the provider's own body field, as a salted hash
   * that does not reveal the tenant id (see tenantAttribution). @default none
   */
  readonly attribution?: { readonly field: AttributionField; readonly salt: string };
  /**
   * Told once per change when the model refuses a parameter (it is then left out, or the token
   * limit renamed, for the rest of the process); for the log and metrics.
   */
  readonly onParamChange?: (change: ParamChange & { readonly message: string }) => void;
  /** Backoff settings; unset fields take the DEFAULT_* values of retry.ts. */
  readonly retry?: Partial<RetryPolicy>;
  /** @default DEFAULT_MAX_CONCURRENCY (16) */
  readonly maxConcurrency?: number;
  /** @default DEFAULT_MAX_CONCURRENCY_PER_TENANT (8) */
  readonly maxConcurrencyPerTenant?: number;
  /**
   * Stream answers over SSE (with `stream_options.include_usage`) and call `onToken` per delta.
   * Without streaming, `onToken` is called once with the whole answer.
   * @default false
   */
  readonly stream?: boolean;
  /** Clock, sleep and randomness of the retry loop; tests inject instant, recorded sleeps. */
  readonly timing?: Partial<RetryTiming>;
  /**
   * Request slots shared with other clients of the same provider (one per model it serves), so the
   * provider's caps hold across them. @default own slots from maxConcurrency(PerTenant)
   */
  readonly slots?: ConcurrencySlots;
}

/** The process-wide and per-tenant caps on requests in flight to one provider. */
export interface ConcurrencySlots {
  readonly global: Semaphore;
  readonly perTenant: KeyedSemaphore;
}

export const createConcurrencySlots = (caps: {
  readonly maxConcurrency?: number;
  readonly maxConcurrencyPerTenant?: number;
}): ConcurrencySlots => ({
  global: new Semaphore(positiveInt("maxConcurrency", caps.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY)),
  perTenant: new KeyedSemaphore(
    positiveInt(
      "maxConcurrencyPerTenant",
      caps.maxConcurrencyPerTenant ?? DEFAULT_MAX_CONCURRENCY_PER_TENANT,
    ),
  ),
});

/**
 * An LlmClient over any OpenAI-compatible chat-completions server.
 *
 * Every request carries the parameters the model's profile takes (less any it refused), the system
 * message first, JSON mode when asked, and with `contextHeaders` the call's tag as X-Vex-* headers.
 * Retries (429, 5xx, connection errors, timed-out attempts) use exponential backoff with full jitter
 * and honour Retry-After. A 400 naming an unsupported parameter or value drops that parameter for the
 * model (or renames the token limit) and sends again at once, outside the retry budget. Other 4xx
 * are final.
 *
 * Throws AppError: LLM_TIMEOUT (deadline passed), LLM_UNAVAILABLE (transient HTTP error or connection
 * failure, with the status and attempt count in the message and the last error as cause),
 * LLM_AUTH_FAILED (401/403), LLM_MODEL_NOT_FOUND (404 for the model), LLM_REQUEST_REJECTED (any other
 * 4xx, with the server's message and parameter), LLM_OUTPUT_INVALID
 * (unparseable body, no choices or no text, stream ended before it finished). An abort through
 * `options.signal` stops the HTTP request and any backoff wait at once and rejects with an AppError
 * too: the signal's reason when that is an AppError (the orchestrator's CANCELLED / INTERRUPTED),
 * else CANCELLED with the reason as cause.
 */
export const createOpenAiLlmClient = (options: OpenAiLlmClientOptions): LlmClient => {
  const timeoutMs = positiveInt("timeoutMs", options.timeoutMs ?? DEFAULT_LLM_TIMEOUT_MS);
  const attemptTimeoutMs = positiveInt(
    "attemptTimeoutMs",
    options.attemptTimeoutMs ?? Math.min(DEFAULT_LLM_ATTEMPT_TIMEOUT_MS, timeoutMs),
  );
  const profile = options.profile ?? resolveModelProfile(options.model);
  const params = new ModelParams(
    options.model,
    profile,
    options.tokenLimitField ?? (profile === "reasoning" ? "max_completion_tokens" : "max_tokens"),
  );
  const policy = resolveRetryPolicy(options.retry);
  const timing: RetryTiming = { ...defaultRetryTiming, ...options.timing };
  const { global, perTenant } = options.slots ?? createConcurrencySlots(options);
  const call: CallSettings = {
    ...options,
    params,
    contextHeaders: options.contextHeaders ?? false,
    structuredOutput: options.structuredOutput ?? DEFAULT_STRUCTURED_OUTPUT,
    stream: options.stream ?? false,
    timeoutMs,
    attemptTimeoutMs,
    policy,
    timing,
  };

  return {
    model: options.model,
    profile,
    effectiveParams: (p) => params.effective(p),
    async complete(request: LlmRequest, callOptions: LlmCallOptions = {}): Promise<LlmResponse> {
      const outer = callOptions.signal;
      const releases: Array<() => void> = [];
      try {
        // Tenant slot first: a tenant waiting on its own cap must not hold a global slot.
        releases.push(await perTenant.acquire(request.tag.tenantId, outer));
        releases.push(await global.acquire(outer));
      } catch (e) {
        for (const release of releases) release();
        throw outer?.aborted ? cancelled(outer.reason) : e;
      }
      try {
        return await callWithRetries(call, request, callOptions);
      } finally {
        for (const release of releases.reverse()) release();
      }
    },
  };
};

/**
 * Resends after a refused parameter are not retries: each refusal removes one parameter for good,
 * so a call makes at most this many of them.
 */
const MAX_PARAM_RESENDS = LLM_PARAM_NAMES.length + 1;

const callWithRetries = async (
  s: CallSettings,
  request: LlmRequest,
  opts: LlmCallOptions,
): Promise<LlmResponse> => {
  const outer = opts.signal;
  const deadline = new AbortController();
  const deadlineTimer = setTimeout(() => deadline.abort(new Error("call deadline")), s.timeoutMs);
  const callSignal = linkSignals(outer, deadline.signal);
  const progress: Progress = { tokensEmitted: false, responding: () => {} };
  const maxAttempts = s.policy.maxRetries + 1;
  let lastError: unknown;
  let attempt = 1;
  let resends = 0;
  try {
    for (let httpRequest = 1; ; httpRequest++) {
      const attemptCtl = new AbortController();
      const attemptTimer = setTimeout(
        () => attemptCtl.abort(new Error("attempt timeout")),
        s.attemptTimeoutMs,
      );
      // The attempt timeout guards the wait for the server to start answering (a stream to open);
      // after that the call's deadline rules, however long a reasoning model thinks.
      progress.responding = () => clearTimeout(attemptTimer);
      const signal = linkSignals(callSignal.signal, attemptCtl.signal);
      let failure: Failure;
      try {
        return await attemptOnce(s, request, opts, httpRequest, signal.signal, progress);
      } catch (e) {
        if (e instanceof TokenListenerError) throw e.cause;
        lastError = e;
        if (outer?.aborted) throw cancelled(outer.reason);
        if (deadline.signal.aborted) throw callTimeout(s.timeoutMs, attempt, e);
        if (resends < MAX_PARAM_RESENDS && adaptToRefusal(s, e)) {
          resends++;
          continue;
        }
        failure = classify(e, attemptCtl.signal.aborted, s.attemptTimeoutMs, s.timing.now(), s.model);
      } finally {
        clearTimeout(attemptTimer);
        signal.dispose();
      }
      // Text already handed to onToken cannot be taken back, so a partial stream is never retried.
      if (!failure.retryable || attempt >= maxAttempts || progress.tokensEmitted) {
        throw finalError(failure, attempt, maxAttempts);
      }
      const delay = retryDelayMs(s.policy, attempt, failure.serverAskMs, s.timing.random);
      try {
        await s.timing.sleep(delay, callSignal.signal);
      } catch (e) {
        if (outer?.aborted) throw cancelled(outer.reason);
        if (deadline.signal.aborted) throw callTimeout(s.timeoutMs, attempt, lastError);
        throw e;
      }
      attempt++;
    }
  } finally {
    clearTimeout(deadlineTimer);
    callSignal.dispose();
  }
};

/**
 * For a 400 naming a parameter the model does not take: records the refusal (telling onParamChange
 * when it changed what is sent) and says whether sending again can help, i.e. whether the refused
 * field is no longer sent.
 */
const adaptToRefusal = (s: CallSettings, e: unknown): boolean => {
  const param = unsupportedParam(e);
  if (param === undefined || !s.params.canAdapt(param)) return false;
  const change = s.params.refuse(param);
  if (change) s.onParamChange?.({ ...change, message: e instanceof Error ? e.message : String(e) });
  return !s.params.sends(param);
};

const positiveInt = (name: string, v: number): number => {
  if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  return v;
};
