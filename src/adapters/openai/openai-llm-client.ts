import { APIConnectionError, APIConnectionTimeoutError, APIError, type OpenAI } from "openai";
import { z } from "zod";
import { AppError, ErrorCode, isAppError } from "../../domain/errors.js";
import { NO_TOKENS, type TokenUsage } from "../../domain/run.js";
import type { LlmCallOptions, LlmCallTag, LlmClient, LlmRequest, LlmResponse } from "../../ports/llm.js";
import {
  defaultRetryTiming,
  isRetryableStatus,
  parseRetryAfter,
  parseRetryAfterMs,
  type RetryPolicy,
  type RetryTiming,
  resolveRetryPolicy,
  retryDelayMs,
} from "./retry.js";

/**
 * Deadline of one `complete()` call, from the moment it holds its concurrency slots until it has
 * the whole answer, across all attempts and backoff waits.
 * @default 60_000
 */
export const DEFAULT_LLM_TIMEOUT_MS = 60_000;
/**
 * Requests in flight at once through one adapter instance (the process has one).
 * @default 16
 */
export const DEFAULT_MAX_CONCURRENCY = 16;
/**
 * Requests in flight at once for one tenant, so one tenant cannot take every slot.
 * @default 8
 */
export const DEFAULT_MAX_CONCURRENCY_PER_TENANT = 8;

/** The request headers that carry the call's tag; values are percent-encoded (ids stay as they are). */
export const VEX_HEADERS = {
  tenant: "X-Vex-Tenant",
  run: "X-Vex-Run",
  agent: "X-Vex-Agent",
  role: "X-Vex-Role",
  call: "X-Vex-Call",
  round: "X-Vex-Round",
  /** 1-based attempt number of this HTTP request within the call (retries count up). */
  attempt: "X-Vex-Attempt",
} as const;

export interface OpenAiLlmClientOptions {
  /** The SDK client. The composition root owns it; build it with `maxRetries: 0` (this adapter retries). */
  readonly client: OpenAI;
  /** Model name sent with every request. */
  readonly model: string;
  /** Deadline of a whole call (see DEFAULT_LLM_TIMEOUT_MS). @default DEFAULT_LLM_TIMEOUT_MS (60_000) */
  readonly timeoutMs?: number;
  /** Deadline of one HTTP attempt; a timed-out attempt is retried while the call's deadline allows. @default timeoutMs */
  readonly attemptTimeoutMs?: number;
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
}

/**
 * An LlmClient over any OpenAI-compatible chat-completions server.
 *
 * Every request carries the genome's sampling parameters, the system message first, JSON mode when
 * asked, and the call's tag as X-Vex-* headers. Retries (429, 5xx, connection errors, timed-out
 * attempts) use exponential backoff with full jitter and honour Retry-After; other 4xx are final.
 *
 * Throws AppError: LLM_TIMEOUT (deadline passed), LLM_UNAVAILABLE (HTTP error or connection failure,
 * with the status and attempt count in the message and the last error as cause), LLM_OUTPUT_INVALID
 * (unparseable body, no choices or no text, stream ended before it finished). An abort through
 * `options.signal` stops the HTTP request and any backoff wait at once and rejects with an AppError
 * too: the signal's reason when that is an AppError (the orchestrator's CANCELLED / INTERRUPTED),
 * else CANCELLED with the reason as cause.
 */
export const createOpenAiLlmClient = (options: OpenAiLlmClientOptions): LlmClient => {
  const timeoutMs = positiveInt("timeoutMs", options.timeoutMs ?? DEFAULT_LLM_TIMEOUT_MS);
  const attemptTimeoutMs = positiveInt("attemptTimeoutMs", options.attemptTimeoutMs ?? timeoutMs);
  const policy = resolveRetryPolicy(options.retry);
  const timing: RetryTiming = { ...defaultRetryTiming, ...options.timing };
  const global = new Semaphore(
    positiveInt("maxConcurrency", options.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY),
  );
  const perTenant = new KeyedSemaphore(
    positiveInt(
      "maxConcurrencyPerTenant",
      options.maxConcurrencyPerTenant ?? DEFAULT_MAX_CONCURRENCY_PER_TENANT,
    ),
  );
  const call: CallSettings = {
    ...options,
    stream: options.stream ?? false,
    timeoutMs,
    attemptTimeoutMs,
    policy,
    timing,
  };

  return {
    model: options.model,
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

interface CallSettings {
  readonly client: OpenAI;
  readonly model: string;
  readonly stream: boolean;
  readonly timeoutMs: number;
  readonly attemptTimeoutMs: number;
  readonly policy: RetryPolicy;
  readonly timing: RetryTiming;
}

/** What went wrong in one attempt, and whether another attempt may help. */
interface Failure {
  readonly code:
    | typeof ErrorCode.LlmUnavailable
    | typeof ErrorCode.LlmOutputInvalid
    | typeof ErrorCode.LlmTimeout;
  readonly retryable: boolean;
  readonly what: string;
  readonly status?: number;
  readonly serverAskMs?: number;
  readonly cause: unknown;
}

const callWithRetries = async (
  s: CallSettings,
  request: LlmRequest,
  opts: LlmCallOptions,
): Promise<LlmResponse> => {
  const outer = opts.signal;
  const deadline = new AbortController();
  const deadlineTimer = setTimeout(() => deadline.abort(new Error("call deadline")), s.timeoutMs);
  const callSignal = linkSignals(outer, deadline.signal);
  const progress = { tokensEmitted: false };
  const maxAttempts = s.policy.maxRetries + 1;
  let lastError: unknown;
  try {
    for (let attempt = 1; ; attempt++) {
      const attemptCtl = new AbortController();
      const attemptTimer = setTimeout(
        () => attemptCtl.abort(new Error("attempt timeout")),
        s.attemptTimeoutMs,
      );
      const signal = linkSignals(callSignal.signal, attemptCtl.signal);
      let failure: Failure;
      try {
        return await attemptOnce(s, request, opts, attempt, signal.signal, progress);
      } catch (e) {
        if (e instanceof TokenListenerError) throw e.cause;
        lastError = e;
        if (outer?.aborted) throw cancelled(outer.reason);
        if (deadline.signal.aborted) throw callTimeout(s, attempt, e);
        failure = classify(e, attemptCtl.signal.aborted, s.attemptTimeoutMs, s.timing.now());
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
        if (deadline.signal.aborted) throw callTimeout(s, attempt, lastError);
        throw e;
      }
    }
  } finally {
    clearTimeout(deadlineTimer);
    callSignal.dispose();
  }
};

const attemptOnce = async (
  s: CallSettings,
  request: LlmRequest,
  opts: LlmCallOptions,
  attempt: number,
  signal: AbortSignal,
  progress: { tokensEmitted: boolean },
): Promise<LlmResponse> => {
  const p = request.params;
  const body = {
    model: s.model,
    messages: [
      { role: "system" as const, content: request.system },
      ...request.messages.map((m) => ({ role: m.role, content: m.content })),
    ],
    temperature: p.temperature,
    top_p: p.topP,
    presence_penalty: p.presencePenalty,
    frequency_penalty: p.frequencyPenalty,
    max_tokens: p.maxTokens,
    ...(request.json ? { response_format: { type: "json_object" as const } } : {}),
  };
  // maxRetries: 0 per request as well, so the SDK never retries (its waits ignore our signal).
  const requestOptions = { signal, headers: tagHeaders(request.tag, attempt), maxRetries: 0 };
  if (!s.stream) {
    const completion: unknown = await s.client.chat.completions.create(
      { ...body, stream: false },
      requestOptions,
    );
    const response = parseCompletion(completion, s.model);
    emit(opts, response.content, progress);
    return response;
  }
  const stream = await s.client.chat.completions.create(
    { ...body, stream: true, stream_options: { include_usage: true } },
    requestOptions,
  );
  let content = "";
  let model = "";
  let finishReason: string | null = null;
  let usage: TokenUsage | undefined;
  let chunks = 0;
  for await (const raw of stream) {
    chunks++;
    const parsed = chunkSchema.safeParse(raw);
    if (!parsed.success) throw outputInvalid(`stream chunk ${chunks} is not a chat completion chunk`, raw);
    const chunk = parsed.data;
    if (model === "" && chunk.model) model = chunk.model;
    if (chunk.usage) usage = toUsage(chunk.usage);
    const choice = chunk.choices.find((c) => (c.index ?? 0) === 0);
    const piece = choice?.delta?.content;
    if (piece) {
      content += piece;
      emit(opts, piece, progress);
    }
    if (choice?.finish_reason) finishReason = choice.finish_reason;
  }
  // The SDK ends the iteration quietly when the request is aborted; surface the abort.
  if (signal.aborted) throw signal.reason;
  if (finishReason === null) {
    throw new AppError(
      ErrorCode.LlmOutputInvalid,
      `LLM stream ended before the model finished (no finish_reason after ${chunks} chunks; ${content.length} characters received).`,
      { details: { chunks, received: excerpt(content) } },
    );
  }
  return { content, model: model || s.model, usage: usage ?? NO_TOKENS };
};

const tagHeaders = (tag: LlmCallTag, attempt: number): Record<string, string> => ({
  [VEX_HEADERS.tenant]: encodeURIComponent(tag.tenantId),
  [VEX_HEADERS.run]: encodeURIComponent(tag.runId),
  [VEX_HEADERS.agent]: encodeURIComponent(tag.agentId),
  [VEX_HEADERS.role]: tag.role,
  [VEX_HEADERS.call]: tag.kind,
  [VEX_HEADERS.round]: String(tag.round),
  [VEX_HEADERS.attempt]: String(attempt),
});

/** Wraps an exception thrown by the caller's onToken so it is rethrown as is, not mapped to LLM_*. */
class TokenListenerError extends Error {}

const emit = (opts: LlmCallOptions, text: string, progress: { tokensEmitted: boolean }): void => {
  if (!opts.onToken || text === "") return;
  progress.tokensEmitted = true;
  try {
    opts.onToken(text);
  } catch (e) {
    throw new TokenListenerError("onToken threw", { cause: e });
  }
};

// ---- response validation (STYLE §2.11: untrusted input is parsed, never guessed) ----

const usageSchema = z.looseObject({
  prompt_tokens: z.number().optional(),
  completion_tokens: z.number().optional(),
  total_tokens: z.number().optional(),
});
const completionSchema = z.looseObject({
  model: z.string().optional(),
  choices: z.array(
    z.looseObject({
      message: z.looseObject({ content: z.string().nullish(), refusal: z.string().nullish() }),
      finish_reason: z.string().nullish(),
    }),
  ),
  usage: usageSchema.nullish(),
});
const chunkSchema = z.looseObject({
  model: z.string().optional(),
  choices: z.array(
    z.looseObject({
      index: z.number().optional(),
      delta: z.looseObject({ content: z.string().nullish() }).nullish(),
      finish_reason: z.string().nullish(),
    }),
  ),
  usage: usageSchema.nullish(),
});

const count = (n: number | undefined): number =>
  n !== undefined && Number.isFinite(n) && n >= 0 ? Math.floor(n) : 0;
const toUsage = (u: z.infer<typeof usageSchema>): TokenUsage => {
  const promptTokens = count(u.prompt_tokens);
  const completionTokens = count(u.completion_tokens);
  const total = count(u.total_tokens);
  return { promptTokens, completionTokens, totalTokens: total > 0 ? total : promptTokens + completionTokens };
};

const parseCompletion = (raw: unknown, fallbackModel: string): LlmResponse => {
  const parsed = completionSchema.safeParse(raw);
  if (!parsed.success) throw outputInvalid("LLM response is not a chat completion", raw);
  const { choices, model, usage } = parsed.data;
  const first = choices[0];
  if (first === undefined) throw outputInvalid("LLM response has no choices", raw);
  const content = first.message.content;
  if (typeof content !== "string") {
    const refusal = first.message.refusal;
    throw outputInvalid(
      refusal
        ? `LLM refused to answer: ${refusal}`
        : `LLM response has no text (finish_reason ${first.finish_reason})`,
      raw,
    );
  }
  return { content, model: model || fallbackModel, usage: usage ? toUsage(usage) : NO_TOKENS };
};

const EXCERPT_CHARS = 300;
const excerpt = (value: unknown): string => {
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  return text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}…` : text;
};

const outputInvalid = (what: string, received: unknown): AppError =>
  new AppError(ErrorCode.LlmOutputInvalid, `${what}; received: ${excerpt(received)}`, {
    details: { received: excerpt(received) },
  });

// ---- error mapping ----

/** Maps an attempt's exception; the caller has already ruled out the outer abort and the call deadline. */
const classify = (e: unknown, attemptTimedOut: boolean, attemptTimeoutMs: number, nowMs: number): Failure => {
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

const finalError = (f: Failure, attempt: number, maxAttempts: number): AppError => {
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

const callTimeout = (s: CallSettings, attempt: number, cause: unknown): AppError =>
  new AppError(
    ErrorCode.LlmTimeout,
    `LLM call timed out after ${s.timeoutMs} ms (during attempt ${attempt}).`,
    {
      cause,
      details: { attempts: attempt, timeoutMs: s.timeoutMs },
    },
  );

const cancelled = (reason: unknown): AppError =>
  isAppError(reason) ? reason : new AppError(ErrorCode.Cancelled, "LLM call cancelled.", { cause: reason });

const positiveInt = (name: string, v: number): number => {
  if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  return v;
};

// ---- signals and concurrency ----

/** An AbortSignal that aborts when any source does; `dispose` detaches it from long-lived sources. */
const linkSignals = (
  ...sources: Array<AbortSignal | undefined>
): { signal: AbortSignal; dispose(): void } => {
  const controller = new AbortController();
  const detach: Array<() => void> = [];
  for (const source of sources) {
    if (source === undefined) continue;
    if (source.aborted) {
      controller.abort(source.reason);
      break;
    }
    const onAbort = () => controller.abort(source.reason);
    source.addEventListener("abort", onAbort, { once: true });
    detach.push(() => source.removeEventListener("abort", onAbort));
  }
  return {
    signal: controller.signal,
    dispose: () => {
      for (const f of detach) f();
    },
  };
};

/** A FIFO counting semaphore whose waits can be aborted. */
class Semaphore {
  private active = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  get idle(): boolean {
    return this.active === 0 && this.waiters.length === 0;
  }

  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener("abort", onAbort);
        this.active++;
        resolve(this.releaser());
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(grant);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal?.reason);
      };
      this.waiters.push(grant);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.waiters.shift()?.();
    };
  }
}

/** One Semaphore per key, dropped again when idle so the map never grows with old tenants. */
class KeyedSemaphore {
  private readonly byKey = new Map<string, Semaphore>();

  constructor(private readonly limit: number) {}

  async acquire(key: string, signal?: AbortSignal): Promise<() => void> {
    let sem = this.byKey.get(key);
    if (sem === undefined) {
      sem = new Semaphore(this.limit);
      this.byKey.set(key, sem);
    }
    const owned = sem;
    const cleanup = () => {
      if (owned.idle && this.byKey.get(key) === owned) this.byKey.delete(key);
    };
    try {
      const release = await owned.acquire(signal);
      return () => {
        release();
        cleanup();
      };
    } catch (e) {
      cleanup();
      throw e;
    }
  }
}
