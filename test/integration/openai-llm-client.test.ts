import { APIConnectionError, APIError, OpenAI } from "openai";
import { afterEach, describe, expect, it } from "vitest";
import {
  createOpenAiLlmClient,
  type OpenAiLlmClientOptions,
} from "../../src/adapters/openai/openai-llm-client.js";
import { AppError, ErrorCode } from "../../src/domain/errors.js";
import { DEFAULT_TRAITS, makeTraits, toLlmParams } from "../../src/domain/genome.js";
import type { LlmCallTag, LlmClient, LlmRequest } from "../../src/ports/llm.js";
import type { FakeHostedOptions } from "../fakes/fake-openai-hosted.js";
import { type FakeOpenAi, type FakeScript, startFakeOpenAi } from "../fakes/fake-openai-server.js";

const BASE_MAX_TOKENS = 512;
const leftovers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const dispose of leftovers.splice(0).reverse()) await dispose();
});

const aTag = (overrides: Partial<LlmCallTag> = {}): LlmCallTag => ({
  tenantId: "tenant-a",
  runId: "run-1",
  agentId: "agent-1",
  role: "RESEARCHER",
  kind: "ANSWER",
  round: 0,
  ...overrides,
});

const aRequest = (overrides: Partial<LlmRequest> = {}): LlmRequest => ({
  system: "You are a careful researcher.",
  messages: [{ role: "user", content: "What is the boiling point of water at sea level?" }],
  params: toLlmParams(DEFAULT_TRAITS, BASE_MAX_TOKENS),
  tag: aTag(),
  ...overrides,
});

interface Harness {
  readonly fake: FakeOpenAi;
  readonly llm: LlmClient;
  /** Every backoff wait the adapter asked for, in ms (the injected sleep returns at once). */
  readonly sleeps: number[];
}

/** A fake server, the real SDK pointed at it, and the adapter with an instant, recorded sleep. */
const setup = async (
  script?: FakeScript,
  options: Partial<OpenAiLlmClientOptions> = {},
  hosted?: FakeHostedOptions,
): Promise<Harness> => {
  const fake = await startFakeOpenAi({ ...(script ? { script } : {}), ...(hosted ? { hosted } : {}) });
  leftovers.push(() => fake.close());
  const client = new OpenAI({
    apiKey: "test-key",
    baseURL: fake.url,
    maxRetries: 0,
    timeout: 10_000,
    logLevel: "off",
  });
  const sleeps: number[] = [];
  const llm = createOpenAiLlmClient({
    client,
    model: "fake-gpt",
    // The fake scripts its replies by the call tag these headers carry.
    contextHeaders: true,
    timeoutMs: 5_000,
    retry: { maxRetries: 3, baseDelayMs: 100, maxDelayMs: 1_000, jitter: "full" },
    timing: {
      random: () => 0.5,
      now: () => Date.parse("2026-01-01T00:00:00Z"),
      sleep: async (ms, signal) => {
        sleeps.push(ms);
        signal?.throwIfAborted();
      },
    },
    ...options,
  });
  return { fake, llm, sleeps };
};

/** The AppError a promise rejects with (fails the test if it resolves or rejects otherwise). */
const rejection = async (p: Promise<unknown>): Promise<AppError> => {
  const outcome = await p.then(
    () => new Error("expected a rejection"),
    (e: unknown) => e,
  );
  expect(outcome).toBeInstanceOf(AppError);
  return outcome as AppError;
};

describe("OpenAI adapter: what goes on the wire", () => {
  it("sends each genome's sampling parameters, the system message first, and the model", async () => {
    const { fake, llm } = await setup();
    const cautious = makeTraits({
      exploration: 0.2,
      precision: 0.9,
      creativity: 0.1,
      skepticism: 0.8,
      verbosity: 0.3,
    });
    const wild = makeTraits({ exploration: 1, precision: 0, creativity: 0.7, skepticism: 0.2, verbosity: 1 });
    await llm.complete(aRequest({ params: toLlmParams(cautious, BASE_MAX_TOKENS) }));
    await llm.complete(aRequest({ params: toLlmParams(wild, BASE_MAX_TOKENS) }));

    const sent = fake.requests.map((r) => r.body);
    expect(sent[0]).toMatchObject({
      model: "fake-gpt",
      temperature: 0.38,
      top_p: 0.55,
      presence_penalty: 0.1,
      frequency_penalty: 0.4,
      max_tokens: 486,
      stream: false,
    });
    expect(sent[1]).toMatchObject({
      temperature: 1.5,
      top_p: 1,
      presence_penalty: 0.7,
      frequency_penalty: 0.1,
      max_tokens: 1024,
    });
    for (const [i, traits] of [cautious, wild].entries()) {
      const p = toLlmParams(traits, BASE_MAX_TOKENS);
      expect(sent[i]).toMatchObject({
        temperature: p.temperature,
        top_p: p.topP,
        presence_penalty: p.presencePenalty,
        frequency_penalty: p.frequencyPenalty,
        max_tokens: p.maxTokens,
      });
      expect(sent[i]?.messages).toEqual([
        { role: "system", content: "You are a careful researcher." },
        { role: "user", content: "What is the boiling point of water at sea level?" },
      ]);
      expect(sent[i]).not.toHaveProperty("response_format");
    }
  });

  it("keeps the conversation order after the system message", async () => {
    const { fake, llm } = await setup();
    const messages = [
      { role: "user", content: "claim?" },
      { role: "assistant", content: "claim." },
      { role: "user", content: "defend it" },
    ] as const;
    await llm.complete(aRequest({ system: "sys", messages }));
    expect(fake.requests[0]?.body?.messages).toEqual([{ role: "system", content: "sys" }, ...messages]);
  });

  it("carries the call's tag in X-Vex-* headers, with the attempt number", async () => {
    const { fake, llm } = await setup();
    const tag = aTag({
      tenantId: "tenant/ä b",
      runId: "run-7",
      agentId: "agent-3",
      role: "CRITIC",
      kind: "REBUTTAL",
      round: 2,
    });
    await llm.complete(aRequest({ tag }));
    const seen = fake.requests[0];
    expect(seen?.tag).toEqual(tag);
    expect(seen?.attempt).toBe(1);
    expect(seen?.headers).toMatchObject({
      "x-vex-tenant": "tenant%2F%C3%A4%20b",
      "x-vex-run": "run-7",
      "x-vex-agent": "agent-3",
      "x-vex-role": "CRITIC",
      "x-vex-call": "REBUTTAL",
      "x-vex-round": "2",
      "x-vex-attempt": "1",
      authorization: "Bearer test-key",
    });
  });

  it("asks for a JSON object in JSON mode", async () => {
    const { fake, llm } = await setup();
    const res = await llm.complete(
      aRequest({ json: true, tag: aTag({ role: "CRITIC", kind: "CHALLENGE", round: 1 }) }),
    );
    expect(fake.requests[0]?.body?.response_format).toEqual({ type: "json_object" });
    expect(JSON.parse(res.content)).toEqual({
      isChallenge: false,
      confidence: 0.9,
      reasoning: expect.any(String),
      suggestedRevision: null,
    });
  });
});

describe("OpenAI adapter: responses", () => {
  it("returns the content, the model the server reports, and its usage", async () => {
    const usage = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 };
    const { llm } = await setup(() => ({ content: "100 °C", model: "fake-gpt-2026-01-01", usage }));
    const tokens: string[] = [];
    const res = await llm.complete(aRequest(), { onToken: (t) => tokens.push(t) });
    expect(res).toEqual({
      content: "100 °C",
      model: "fake-gpt-2026-01-01",
      usage: { promptTokens: 11, completionTokens: 7, totalTokens: 18, reasoningTokens: 0 },
      params: toLlmParams(DEFAULT_TRAITS, BASE_MAX_TOKENS),
    });
    expect(tokens).toEqual(["100 °C"]);
  });

  it("reports zero usage when the server sends none", async () => {
    const { llm } = await setup(() => ({ content: "ok", usage: null }));
    expect((await llm.complete(aRequest())).usage).toEqual({
      promptTokens: 0,
      completionTokens: 0,
      totalTokens: 0,
      reasoningTokens: 0,
    });
  });

  it("streams: assembles the text, calls onToken in order, takes usage from the last chunk", async () => {
    const usage = { prompt_tokens: 21, completion_tokens: 4, total_tokens: 25 };
    const { fake, llm } = await setup(
      () => ({ content: "Hello stream!", chunks: ["Hel", "lo ", "stream", "!"], usage }),
      {
        stream: true,
      },
    );
    const tokens: string[] = [];
    const res = await llm.complete(aRequest(), { onToken: (t) => tokens.push(t) });
    expect(tokens).toEqual(["Hel", "lo ", "stream", "!"]);
    expect(res).toEqual({
      content: "Hello stream!",
      model: "fake-gpt",
      usage: { promptTokens: 21, completionTokens: 4, totalTokens: 25, reasoningTokens: 0 },
      params: toLlmParams(DEFAULT_TRAITS, BASE_MAX_TOKENS),
    });
    expect(fake.requests[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(fake.requests[0]?.outcome).toBe("answered");
  });

  it("streams with spaced-out chunks and reports zero usage when the server leaves it out", async () => {
    const { llm } = await setup(() => ({ content: "one two three", chunkDelayMs: 10, usage: null }), {
      stream: true,
    });
    const tokens: string[] = [];
    const res = await llm.complete(aRequest(), { onToken: (t) => tokens.push(t) });
    expect(tokens).toEqual(["one ", "two ", "three"]);
    expect(res.usage).toEqual({ promptTokens: 0, completionTokens: 0, totalTokens: 0, reasoningTokens: 0 });
  });

  it("rethrows an exception from onToken as is", async () => {
    const { fake, llm } = await setup(() => ({ content: "a b c" }), { stream: true });
    const boom = new Error("listener failed");
    await expect(
      llm.complete(aRequest(), {
        onToken: () => {
          throw boom;
        },
      }),
    ).rejects.toBe(boom);
    expect(fake.requests).toHaveLength(1);
  });
});

describe("OpenAI adapter: retries", () => {
  it("honours Retry-After (seconds) on 429, then succeeds", async () => {
    const { fake, llm, sleeps } = await setup([
      { match: { turn: 1 }, reply: { status: 429, retryAfterSeconds: 2 } },
    ]);
    const res = await llm.complete(aRequest());
    expect(res.content).toContain("RESEARCHER ANSWER");
    expect(sleeps).toEqual([2_000]);
    expect(fake.requests.map((r) => r.attempt)).toEqual([1, 2]);
  });

  it("honours Retry-After given as an HTTP-date", async () => {
    // The harness clock says 2026-01-01T00:00:00Z.
    const { sleeps, llm } = await setup([
      { match: { turn: 1 }, reply: { status: 429, retryAfter: "Thu, 01 Jan 2026 00:00:04 GMT" } },
    ]);
    await llm.complete(aRequest());
    expect(sleeps).toEqual([4_000]);
  });

  it("caps a long Retry-After", async () => {
    const { sleeps, llm } = await setup(
      [{ match: { turn: 1 }, reply: { status: 503, retryAfterSeconds: 3_600 } }],
      {
        retry: { maxRetryAfterMs: 1_500 },
      },
    );
    await llm.complete(aRequest());
    expect(sleeps).toEqual([1_500]);
  });

  it("really waits what retry-after-ms asks (real clock)", async () => {
    const { fake, llm } = await setup(
      [{ match: { turn: 1 }, reply: { status: 429, headers: { "retry-after-ms": "150" } } }],
      { timing: {} },
    );
    await llm.complete(aRequest());
    const [first, second] = fake.requests;
    // The harness backoff would be under 100 ms (base 100, full jitter): at least 140 ms is the server's ask.
    const gap = (second?.receivedAt ?? 0) - (first?.receivedAt ?? 0);
    expect(gap).toBeGreaterThanOrEqual(140);
  });

  it("retries 500 with jittered exponential backoff, then succeeds", async () => {
    const { fake, llm, sleeps } = await setup((req) =>
      req.turn <= 3 ? { status: 500 } : { content: "finally" },
    );
    const res = await llm.complete(aRequest());
    expect(res.content).toBe("finally");
    // random() = 0.5 → half of 100, 200, 400.
    expect(sleeps).toEqual([50, 100, 200]);
    expect(fake.requests.map((r) => r.attempt)).toEqual([1, 2, 3, 4]);
  });

  it("gives up with LLM_UNAVAILABLE when retries are exhausted, with status, attempts and cause", async () => {
    const { fake, llm } = await setup(() => ({ status: 503, message: "overloaded" }), {
      retry: { maxRetries: 2 },
    });
    const err = await rejection(llm.complete(aRequest()));
    expect(err.code).toBe(ErrorCode.LlmUnavailable);
    expect(err.message).toMatch(/HTTP 503/);
    expect(err.message).toMatch(/3 attempts/);
    expect(err.details).toEqual({ attempts: 3, status: 503 });
    expect(err.cause).toBeInstanceOf(APIError);
    expect((err.cause as APIError).status).toBe(503);
    expect(fake.requests).toHaveLength(3);
  });

  it("gives up on persistent 429 with LLM_UNAVAILABLE", async () => {
    const { llm, sleeps } = await setup(() => ({ status: 429, retryAfterSeconds: 1 }), {
      retry: { maxRetries: 1 },
    });
    const err = await rejection(llm.complete(aRequest()));
    expect(err.code).toBe(ErrorCode.LlmUnavailable);
    expect(err.message).toMatch(/HTTP 429/);
    expect(sleeps).toEqual([1_000]);
  });

  it.each([
    [400, ErrorCode.LlmRequestRejected],
    [401, ErrorCode.LlmAuthFailed],
    [403, ErrorCode.LlmAuthFailed],
    [404, ErrorCode.LlmRequestRejected],
    [422, ErrorCode.LlmRequestRejected],
  ] as const)("never retries HTTP %i, rejecting with %s", async (status, code) => {
    const { fake, llm, sleeps } = await setup(() => ({ status, message: "bad request body" }));
    const err = await rejection(llm.complete(aRequest()));
    expect(err.code).toBe(code);
    expect(err.message).toContain("bad request body");
    expect(err.message).toMatch(new RegExp(`HTTP ${status}`));
    expect(err.message).toMatch(/not retryable/);
    expect(err.details).toEqual({ attempts: 1, status });
    expect(fake.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("retries connection failures and then reports LLM_UNAVAILABLE", async () => {
    const dead = await startFakeOpenAi();
    await dead.close();
    const client = new OpenAI({ apiKey: "k", baseURL: dead.url, maxRetries: 0, logLevel: "off" });
    const sleeps: number[] = [];
    const llm = createOpenAiLlmClient({
      client,
      model: "m",
      retry: { maxRetries: 2 },
      timing: { sleep: async (ms) => void sleeps.push(ms) },
    });
    const err = await rejection(llm.complete(aRequest()));
    expect(err.code).toBe(ErrorCode.LlmUnavailable);
    expect(err.message).toMatch(/connection failed/);
    expect(err.cause).toBeInstanceOf(APIConnectionError);
    expect(sleeps).toHaveLength(2);
  });

  it("retries an attempt that timed out while the call's deadline allows", async () => {
    const { fake, llm } = await setup([{ match: { turn: 1 }, reply: { hang: true } }], {
      attemptTimeoutMs: 150,
      timeoutMs: 5_000,
    });
    const res = await llm.complete(aRequest());
    expect(res.content).toContain("turn 2");
    await fake.idle();
    expect(fake.requests.map((r) => r.outcome)).toEqual(["client-closed", "answered"]);
  });

  it("never retries a call that has published a token", async () => {
    // Two chunks, then the stream stalls: the attempt timeout no longer applies, the call's deadline ends it.
    const { fake, llm } = await setup(() => ({ hang: true, afterChunks: 2 }), {
      stream: true,
      attemptTimeoutMs: 100,
      timeoutMs: 600,
      retry: { maxRetries: 3 },
    });
    const tokens: string[] = [];
    const err = await rejection(llm.complete(aRequest(), { onToken: (t) => tokens.push(t) }));
    expect(err.code).toBe(ErrorCode.LlmTimeout);
    expect(tokens).toHaveLength(2);
    expect(fake.requests).toHaveLength(1);
  });

  it("lets an opened stream think past the attempt timeout before its first token", async () => {
    // The stream opens at once; its only token comes after 1.5 s, well past the 1 s attempt timeout.
    const { fake, llm } = await setup(() => ({ content: "considered", chunkDelayMs: 1_500 }), {
      stream: true,
      attemptTimeoutMs: 1_000,
      timeoutMs: 30_000,
    });
    const res = await llm.complete(aRequest(), { onToken: () => {} });
    expect(res.content).toBe("considered");
    expect(fake.requests).toHaveLength(1);
  });

  it("reports LLM_TIMEOUT when every attempt timed out", async () => {
    const { fake, llm } = await setup(() => ({ hang: true }), {
      attemptTimeoutMs: 100,
      timeoutMs: 5_000,
      retry: { maxRetries: 1 },
    });
    const err = await rejection(llm.complete(aRequest()));
    expect(err.code).toBe(ErrorCode.LlmTimeout);
    expect(err.message).toMatch(/100 ms attempt timeout/);
    expect(err.details).toEqual({ attempts: 2 });
    expect(fake.requests).toHaveLength(2);
  });
});

describe("OpenAI adapter: invalid output", () => {
  it("maps a malformed JSON body to LLM_OUTPUT_INVALID without retrying", async () => {
    const { fake, llm } = await setup(() => ({ malformedBody: true }));
    const err = await rejection(llm.complete(aRequest()));
    expect(err.code).toBe(ErrorCode.LlmOutputInvalid);
    expect(err.message).toMatch(/not valid JSON/);
    expect(err.cause).toBeInstanceOf(SyntaxError);
    expect(fake.requests).toHaveLength(1);
  });

  it("maps a malformed SSE event to LLM_OUTPUT_INVALID", async () => {
    const { llm } = await setup(() => ({ malformedBody: true }), { stream: true });
    const err = await rejection(llm.complete(aRequest()));
    expect(err.code).toBe(ErrorCode.LlmOutputInvalid);
  });

  it("maps empty choices to LLM_OUTPUT_INVALID, quoting what was received", async () => {
    const { llm } = await setup(() => ({ body: { id: "x", model: "fake-gpt", choices: [] } }));
    const err = await rejection(llm.complete(aRequest()));
    expect(err.code).toBe(ErrorCode.LlmOutputInvalid);
    expect(err.message).toMatch(/no choices/);
    expect(err.message).toContain('"choices":[]');
  });

  it("maps a body that is not a completion to LLM_OUTPUT_INVALID", async () => {
    const { llm } = await setup(() => ({ body: { hello: "world" } }));
    expect((await rejection(llm.complete(aRequest()))).code).toBe(ErrorCode.LlmOutputInvalid);
  });

  it("maps a refusal (no text content) to LLM_OUTPUT_INVALID", async () => {
    const body = {
      model: "fake-gpt",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: null, refusal: "I can't help" },
          finish_reason: "stop",
        },
      ],
    };
    const { llm } = await setup(() => ({ body }));
    const err = await rejection(llm.complete(aRequest()));
    expect(err.code).toBe(ErrorCode.LlmOutputInvalid);
    expect(err.message).toMatch(/refused.*I can't help/);
  });

  it("maps a stream cut mid-way to a clean LLM_OUTPUT_INVALID, after the tokens that did arrive", async () => {
    const { fake, llm } = await setup(
      () => ({ dropStreamAfterChunks: 2, content: "alpha beta gamma delta" }),
      {
        stream: true,
      },
    );
    const tokens: string[] = [];
    const err = await rejection(llm.complete(aRequest(), { onToken: (t) => tokens.push(t) }));
    expect(err.code).toBe(ErrorCode.LlmOutputInvalid);
    expect(err.message).toMatch(/ended before it was complete/);
    expect(tokens).toEqual(["alpha ", "beta "]);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]?.outcome).toBe("server-closed");
  });

  it("maps a stream that ends cleanly but without a finish_reason to LLM_OUTPUT_INVALID", async () => {
    const { llm } = await setup(
      () => ({ dropStreamAfterChunks: 3, endCleanly: true, content: "one two three four" }),
      {
        stream: true,
      },
    );
    const err = await rejection(llm.complete(aRequest()));
    expect(err.code).toBe(ErrorCode.LlmOutputInvalid);
    expect(err.message).toMatch(/no finish_reason after 3 chunks/);
  });

  it("maps a JSON body cut mid-way to LLM_OUTPUT_INVALID", async () => {
    const { fake, llm } = await setup(() => ({ dropStreamAfterChunks: 0 }));
    const err = await rejection(llm.complete(aRequest()));
    expect(err.code).toBe(ErrorCode.LlmOutputInvalid);
    expect(fake.requests).toHaveLength(1);
  });
});

describe("OpenAI adapter: timeouts and cancellation", () => {
  it("maps a hang to LLM_TIMEOUT after the call's timeout, closing the connection", async () => {
    const { fake, llm } = await setup(() => ({ hang: true }), { timeoutMs: 300 });
    const t0 = performance.now();
    const err = await rejection(llm.complete(aRequest()));
    expect(err.code).toBe(ErrorCode.LlmTimeout);
    expect(err.message).toMatch(/300 ms/);
    // A lower bound only: no deadline fires early, and a loaded machine may be late.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    await fake.idle();
    expect(fake.requests.map((r) => r.outcome)).toEqual(["client-closed"]);
  });

  it("times out a stream that stalls after its first chunks", async () => {
    const { fake, llm } = await setup(() => ({ hang: true, afterChunks: 2 }), {
      stream: true,
      timeoutMs: 300,
    });
    const tokens: string[] = [];
    const err = await rejection(llm.complete(aRequest(), { onToken: (t) => tokens.push(t) }));
    expect(err.code).toBe(ErrorCode.LlmTimeout);
    expect(tokens).toHaveLength(2);
    await fake.idle();
    expect(fake.requests.map((r) => r.outcome)).toEqual(["client-closed"]);
  });

  it("times out during a long backoff wait", async () => {
    const { fake, llm } = await setup(() => ({ status: 429, retryAfterSeconds: 10 }), {
      timeoutMs: 300,
      timing: {},
    });
    const t0 = performance.now();
    const err = await rejection(llm.complete(aRequest()));
    expect(err.code).toBe(ErrorCode.LlmTimeout);
    expect(err.cause).toBeInstanceOf(APIError);
    // The deadline cut the 10 s wait short (it would have ended in a second request otherwise).
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(fake.requests).toHaveLength(1);
  });

  it("aborts a hanging request through the signal: CANCELLED, connection closed", async () => {
    // The call and attempt deadlines are far away, so only the abort can end the call.
    const { fake, llm } = await setup(() => ({ hang: true }), { timeoutMs: 600_000 });
    const ctl = new AbortController();
    const pending = rejection(llm.complete(aRequest(), { signal: ctl.signal }));
    await fake.waitForRequests(1);
    ctl.abort();
    const err = await pending;
    expect(err.code).toBe(ErrorCode.Cancelled);
    expect(err.cause).toBe(ctl.signal.reason);
    await fake.idle();
    expect(fake.requests.map((r) => r.outcome)).toEqual(["client-closed"]);
  });

  it("rethrows the signal's reason when it is an AppError (e.g. INTERRUPTED)", async () => {
    const { fake, llm } = await setup(() => ({ hang: true }), { stream: true });
    const ctl = new AbortController();
    const reason = new AppError(ErrorCode.Interrupted, "Interrupted by server shutdown.");
    const pending = llm.complete(aRequest(), { signal: ctl.signal });
    await fake.waitForRequests(1);
    ctl.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });

  it("aborts a backoff wait at once", async () => {
    const { fake, llm } = await setup(() => ({ status: 429, retryAfterSeconds: 20 }), {
      timing: {},
      timeoutMs: 600_000,
    });
    const ctl = new AbortController();
    const t0 = performance.now();
    const pending = rejection(llm.complete(aRequest(), { signal: ctl.signal }));
    await fake.waitForRequests(1);
    await fake.idle();
    ctl.abort();
    const err = await pending;
    expect(err.code).toBe(ErrorCode.Cancelled);
    // Well before the 20 s the server asked for: the abort, not the wait, ended it.
    expect(performance.now() - t0).toBeLessThan(20_000);
    expect(fake.requests).toHaveLength(1);
  });

  it("rejects at once when the signal is already aborted, sending nothing", async () => {
    const { fake, llm } = await setup();
    const err = await rejection(llm.complete(aRequest(), { signal: AbortSignal.abort() }));
    expect(err.code).toBe(ErrorCode.Cancelled);
    expect(fake.requests).toHaveLength(0);
  });
});

/**
 * Each of `total` requests is answered only once the next one has arrived, so two are always in
 * flight together (no timing involved); a cap of one would leave the first waiting, and fail.
 */
const answerOnceTheNextArrives = (total: number) => {
  const gate: { fake?: FakeOpenAi } = {};
  const script: FakeScript = async (req) => {
    await gate.fake?.waitForRequests(Math.min(req.seq + 1, total));
    return { content: "ok" };
  };
  return { gate, script };
};

describe("OpenAI adapter: concurrency caps", () => {
  it("never has more than maxConcurrency requests in flight", async () => {
    const { gate, script } = answerOnceTheNextArrives(6);
    const { fake, llm } = await setup(script, { maxConcurrency: 2 });
    gate.fake = fake;
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => llm.complete(aRequest({ tag: aTag({ agentId: `agent-${i}` }) }))),
    );
    expect(results.map((r) => r.content)).toEqual(Array(6).fill("ok"));
    expect(fake.requests).toHaveLength(6);
    expect(fake.maxInFlight).toBe(2);
  });

  it("caps each tenant separately", async () => {
    const { gate, script } = answerOnceTheNextArrives(6);
    const { fake, llm } = await setup(script, { maxConcurrency: 10, maxConcurrencyPerTenant: 1 });
    gate.fake = fake;
    await Promise.all(
      ["tenant-a", "tenant-b", "tenant-a", "tenant-b", "tenant-a", "tenant-b"].map((tenantId, i) =>
        llm.complete(aRequest({ tag: aTag({ tenantId, agentId: `agent-${i}` }) })),
      ),
    );
    expect(fake.maxInFlight).toBe(2);
    expect(Object.fromEntries(fake.maxInFlightByTenant)).toEqual({ "tenant-a": 1, "tenant-b": 1 });
  });

  it("lets a call waiting for a slot be aborted", async () => {
    const { fake, llm } = await setup(() => ({ hang: true }), { maxConcurrency: 1 });
    const first = new AbortController();
    const second = new AbortController();
    const running = rejection(llm.complete(aRequest(), { signal: first.signal }));
    const queued = rejection(
      llm.complete(aRequest({ tag: aTag({ agentId: "agent-2" }) }), { signal: second.signal }),
    );
    await fake.waitForRequests(1);
    second.abort();
    expect((await queued).code).toBe(ErrorCode.Cancelled);
    expect(fake.requests).toHaveLength(1);
    first.abort();
    expect((await running).code).toBe(ErrorCode.Cancelled);
  });

  it("frees the slot after failures, so later calls still run", async () => {
    const { llm } = await setup((req) => (req.tag?.agentId === "bad" ? { status: 400 } : { content: "ok" }), {
      maxConcurrency: 1,
      maxConcurrencyPerTenant: 1,
    });
    await rejection(llm.complete(aRequest({ tag: aTag({ agentId: "bad" }) })));
    expect((await llm.complete(aRequest())).content).toBe("ok");
  });
});

describe("fake OpenAI server", () => {
  it("scripts by tag and turn and records what it saw", async () => {
    const { fake, llm } = await setup([
      { match: { role: "CRITIC", kind: "CHALLENGE", round: 2 }, reply: { content: "round two" } },
      { match: { kind: "ANSWER", turn: 2 }, reply: { content: "second answer" } },
    ]);
    const answer = aRequest();
    expect((await llm.complete(answer)).content).toContain("RESEARCHER ANSWER");
    expect((await llm.complete(answer)).content).toBe("second answer");
    const challenge = aRequest({ tag: aTag({ role: "CRITIC", kind: "CHALLENGE", round: 2 }) });
    expect((await llm.complete(challenge)).content).toBe("round two");
    expect(fake.requests.map((r) => [r.seq, r.turn, r.path])).toEqual([
      [1, 1, "/v1/chat/completions"],
      [2, 2, "/v1/chat/completions"],
      [3, 1, "/v1/chat/completions"],
    ]);
  });

  it("ends hanging requests on close", async () => {
    const fake = await startFakeOpenAi({ script: () => ({ hang: true }) });
    const client = new OpenAI({ apiKey: "k", baseURL: fake.url, maxRetries: 0, logLevel: "off" });
    const llm = createOpenAiLlmClient({ client, model: "m", retry: { maxRetries: 0 } });
    const pending = rejection(llm.complete(aRequest()));
    await fake.waitForRequests(1);
    await fake.close();
    expect((await pending).code).toBe(ErrorCode.LlmUnavailable);
    expect(fake.requests[0]?.outcome).toBe("server-closed");
  });
});
