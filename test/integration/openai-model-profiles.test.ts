import { OpenAI } from "openai";
import { afterEach, describe, expect, it } from "vitest";
import type { ParamChange } from "../../src/adapters/openai/model-params.js";
import {
  createOpenAiLlmClient,
  type OpenAiLlmClientOptions,
  tenantAttribution,
} from "../../src/adapters/openai/openai-llm-client.js";
import { AppError, ErrorCode } from "../../src/domain/errors.js";
import { DEFAULT_TRAITS, makeTraits, toLlmParams, toReasoningParams } from "../../src/domain/genome.js";
import type { LlmRequest } from "../../src/ports/llm.js";
import type { FakeHostedOptions } from "../fakes/fake-openai-hosted.js";
import { type FakeScript, startFakeOpenAi } from "../fakes/fake-openai-server.js";

const leftovers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const dispose of leftovers.splice(0).reverse()) await dispose();
});

/** The default genome's classic budget on a base of 512. */
const BUDGET = toLlmParams(DEFAULT_TRAITS, 512).maxTokens;

const aRequest = (overrides: Partial<LlmRequest> = {}): LlmRequest => ({
  system: "You are a careful researcher.",
  messages: [{ role: "user", content: "Why is the sky blue?" }],
  params: toLlmParams(DEFAULT_TRAITS, 512),
  tag: { tenantId: "t", runId: "r", agentId: "a", role: "RESEARCHER", kind: "ANSWER", round: 0 },
  ...overrides,
});

/** A fake hosted server, the real SDK and the adapter; backoff sleeps are recorded and instant. */
const setup = async (
  hosted: FakeHostedOptions,
  options: Partial<OpenAiLlmClientOptions> = {},
  script?: FakeScript,
) => {
  const fake = await startFakeOpenAi({ hosted, ...(script ? { script } : {}) });
  leftovers.push(() => fake.close());
  const client = new OpenAI({ apiKey: "sk-good", baseURL: fake.url, maxRetries: 0, logLevel: "off" });
  const sleeps: number[] = [];
  const changes: ParamChange[] = [];
  const llm = createOpenAiLlmClient({
    client,
    model: "gpt-5-mini",
    retry: { maxRetries: 0 },
    timing: { sleep: async (ms) => void sleeps.push(ms) },
    onParamChange: ({ message: _message, ...change }) => void changes.push(change),
    ...options,
  });
  return { fake, llm, sleeps, changes };
};

const rejection = async (p: Promise<unknown>): Promise<AppError> => {
  const outcome = await p.then(
    () => new Error("expected a rejection"),
    (e: unknown) => e,
  );
  expect(outcome).toBeInstanceOf(AppError);
  return outcome as AppError;
};

describe("OpenAI adapter: model profiles", () => {
  it("knows OpenAI's reasoning families by name", async () => {
    const { builtInProfile } = await import("../../src/adapters/openai/model-params.js");
    for (const m of [
      "o1",
      "o1-mini",
      "o3",
      "o3-mini",
      "o4-mini",
      "gpt-5",
      "gpt-5-mini",
      "openai/gpt-5-nano",
    ]) {
      expect([m, builtInProfile(m)]).toEqual([m, "reasoning"]);
    }
    for (const m of ["gpt-4o-mini", "gpt-4.1", "gpt-5-chat-latest", "llama3.1:8b", "omni-7b", "qwen2.5"]) {
      expect([m, builtInProfile(m)]).toEqual([m, "classic"]);
    }
  });

  it("sends a reasoning model only max_completion_tokens, reasoning_effort and verbosity", async () => {
    const { fake, llm, changes } = await setup({ reasoning: true });
    expect(llm.profile).toBe("reasoning");
    const traits = makeTraits({ precision: 0.9, verbosity: 0.1 });
    const params = toReasoningParams(traits, 4_096);
    const res = await llm.complete(aRequest({ params }));
    const body = fake.requests[0]?.body;
    expect(body).toMatchObject({
      max_completion_tokens: params.maxTokens,
      reasoning_effort: "high",
      verbosity: "low",
    });
    for (const refused of ["max_tokens", "temperature", "top_p", "presence_penalty", "frequency_penalty"]) {
      expect(body).not.toHaveProperty(refused);
    }
    expect(res.params).toEqual(params);
    expect(res.usage.reasoningTokens).toBe(128);
    expect(res.usage.completionTokens).toBeGreaterThan(128);
    expect(changes).toEqual([]);
  });

  it("leaves classic sampling parameters out on a reasoning model even when a request carries them", async () => {
    const { fake, llm } = await setup({ reasoning: true });
    const res = await llm.complete(aRequest({ params: toLlmParams(DEFAULT_TRAITS, 512) }));
    expect(fake.requests).toHaveLength(1);
    expect(res.params).toEqual({ maxTokens: BUDGET });
  });

  it("a wrong profile still completes: each refused parameter is dropped once, outside the retry budget", async () => {
    // Configured as classic, the hosted reasoning model refuses max_tokens, temperature, top_p and the penalties.
    const { fake, llm, sleeps, changes } = await setup({ reasoning: true }, { profile: "classic" });
    const first = await llm.complete(aRequest());
    expect(first.content).toBeTruthy();
    expect(fake.requests.map((r) => r.refused?.param ?? null)).toEqual([
      "max_tokens",
      "temperature",
      "top_p",
      "presence_penalty",
      "frequency_penalty",
      null,
    ]);
    expect(changes).toEqual([
      { model: "gpt-5-mini", param: "max_tokens", action: "renamed", replacement: "max_completion_tokens" },
      { model: "gpt-5-mini", param: "temperature", action: "dropped" },
      { model: "gpt-5-mini", param: "top_p", action: "dropped" },
      { model: "gpt-5-mini", param: "presence_penalty", action: "dropped" },
      { model: "gpt-5-mini", param: "frequency_penalty", action: "dropped" },
    ]);
    expect(sleeps).toEqual([]);
    expect(first.params).toEqual({ maxTokens: BUDGET });
    expect(fake.requests.at(-1)?.body).toMatchObject({ max_completion_tokens: BUDGET });

    // Remembered: the next call goes through at once, and nothing is reported again.
    await llm.complete(aRequest());
    expect(fake.requests).toHaveLength(7);
    expect(fake.requests[6]?.refused).toBeNull();
    expect(changes).toHaveLength(5);
    expect(llm.effectiveParams?.(toLlmParams(DEFAULT_TRAITS, 512))).toEqual({ maxTokens: BUDGET });
  });

  it("concurrent calls refused for the same parameter report the change once", async () => {
    const { llm, changes } = await setup({ reasoning: true }, { profile: "classic" });
    await Promise.all(Array.from({ length: 4 }, () => llm.complete(aRequest())));
    expect(changes.map((c) => c.param)).toEqual([
      "max_tokens",
      "temperature",
      "top_p",
      "presence_penalty",
      "frequency_penalty",
    ]);
  });

  it("rejects a 400 for a parameter it cannot leave out with LLM_REQUEST_REJECTED, naming it", async () => {
    const body = {
      error: {
        message: "Invalid value for 'messages': too long.",
        type: "invalid_request_error",
        param: "messages",
        code: "invalid_value",
      },
    };
    const { fake, llm } = await setup({}, { retry: { maxRetries: 3 } }, () => ({ status: 400, body }));
    const err = await rejection(llm.complete(aRequest()));
    expect(err.code).toBe(ErrorCode.LlmRequestRejected);
    expect(err.message).toContain("Invalid value for 'messages'");
    expect(err.details).toMatchObject({ status: 400, param: "messages", attempts: 1 });
    expect(fake.requests).toHaveLength(1);
  });

  it("also drops a parameter a compatible server refuses only in its message", async () => {
    const body = {
      error: {
        message: "Unsupported parameter: 'top_p' is not supported with this model.",
        type: "invalid_request_error",
      },
    };
    const { fake, llm, changes } = await setup({}, { model: "local-model" }, (req) =>
      req.body?.top_p === undefined ? { content: "ok" } : { status: 400, body },
    );
    expect((await llm.complete(aRequest())).content).toBe("ok");
    expect(changes).toEqual([{ model: "local-model", param: "top_p", action: "dropped" }]);
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[1]?.body).not.toHaveProperty("top_p");
    expect(fake.requests[1]?.body).toHaveProperty("temperature");
  });

  it("maps a refused key to LLM_AUTH_FAILED naming OPENAI_API_KEY", async () => {
    const { fake, llm } = await setup({ apiKey: "sk-other" }, { retry: { maxRetries: 3 } });
    const err = await rejection(llm.complete(aRequest()));
    expect(err.code).toBe(ErrorCode.LlmAuthFailed);
    expect(err.message).toMatch(/Incorrect API key/);
    expect(err.message).toMatch(/OPENAI_API_KEY/);
    expect(fake.requests).toHaveLength(1);
  });

  it("maps an unknown model to LLM_MODEL_NOT_FOUND naming VEX_MODEL and the model", async () => {
    const { fake, llm } = await setup({ models: ["gpt-5"] }, { retry: { maxRetries: 3 } });
    const err = await rejection(llm.complete(aRequest()));
    expect(err.code).toBe(ErrorCode.LlmModelNotFound);
    expect(err.message).toMatch(/does not exist/);
    expect(err.message).toMatch(/VEX_MODEL/);
    expect(err.message).toContain("'gpt-5-mini'");
    expect(fake.requests).toHaveLength(1);
  });

  it("does not retry a 429 for an exhausted quota", async () => {
    const body = {
      error: {
        message: "You exceeded your current quota, please check your plan and billing details.",
        type: "insufficient_quota",
        param: null,
        code: "insufficient_quota",
      },
    };
    const { fake, llm, sleeps } = await setup({}, { retry: { maxRetries: 3 } }, () => ({
      status: 429,
      body,
    }));
    const err = await rejection(llm.complete(aRequest()));
    expect(err.code).toBe(ErrorCode.LlmRequestRejected);
    expect(err.message).toMatch(/quota/);
    expect(sleeps).toEqual([]);
    expect(fake.requests).toHaveLength(1);
  });
});

describe("OpenAI adapter: token-limit field and context headers", () => {
  it("sends max_tokens to a classic model and max_completion_tokens when configured so", async () => {
    const classic = await setup({}, { model: "llama3.1:8b" });
    await classic.llm.complete(aRequest());
    expect(classic.fake.requests[0]?.body).toMatchObject({ max_tokens: BUDGET });
    expect(classic.fake.requests[0]?.body).not.toHaveProperty("max_completion_tokens");

    const hosted = await setup({}, { model: "gpt-4o-mini", tokenLimitField: "max_completion_tokens" });
    await hosted.llm.complete(aRequest());
    expect(hosted.fake.requests[0]?.body).toMatchObject({ max_completion_tokens: BUDGET, temperature: 0.8 });
    expect(hosted.fake.requests[0]?.body).not.toHaveProperty("max_tokens");
  });

  it("sends no X-Vex-* header (no tenant, run or agent id) unless asked to", async () => {
    const { fake, llm } = await setup({}, { model: "llama3.1:8b" });
    await llm.complete(aRequest());
    const names = Object.keys(fake.requests[0]?.headers ?? {});
    expect(names.filter((n) => n.startsWith("x-vex-"))).toEqual([]);
  });

  it("attributes requests to tenants by a salted hash only when asked to, never by the tenant id", async () => {
    const salt = "a-salt-of-16-chars-or-more";
    const { fake, llm } = await setup({}, { model: "llama3.1:8b", attribution: { field: "user", salt } });
    const tagOf = (tenantId: string) => ({ ...aRequest().tag, tenantId });
    for (const tenant of ["tenant-a", "tenant-b", "tenant-a"])
      await llm.complete(aRequest({ tag: tagOf(tenant) }));
    const ids = fake.requests.map((r) => r.body?.user);
    expect(ids[0]).toBe(tenantAttribution(salt, "tenant-a"));
    expect(ids[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(ids[2]).toBe(ids[0]);
    expect(ids[1]).not.toBe(ids[0]);
    for (const r of fake.requests) expect(r.rawBody).not.toContain("tenant-");

    const plain = await setup({}, { model: "llama3.1:8b" });
    await plain.llm.complete(aRequest());
    expect(plain.fake.requests[0]?.body).not.toHaveProperty("user");
    expect(plain.fake.requests[0]?.body).not.toHaveProperty("safety_identifier");
  });
});
