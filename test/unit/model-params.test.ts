import { describe, expect, it } from "vitest";
import { builtInProfile, ModelParams, resolveModelProfile } from "../../src/adapters/openai/model-params.js";
import { DEFAULT_TRAITS, toLlmParams, toReasoningParams } from "../../src/domain/genome.js";

const classic = toLlmParams(DEFAULT_TRAITS, 512);
const reasoning = toReasoningParams(DEFAULT_TRAITS, 4_096);

describe("model profiles", () => {
  it("prefers the configured profile to the built-in one", () => {
    expect(builtInProfile("o3-mini")).toBe("reasoning");
    expect(resolveModelProfile("o3-mini", { "o3-mini": "classic" })).toBe("classic");
    expect(resolveModelProfile("my-proxy", { "my-proxy": "reasoning" })).toBe("reasoning");
    expect(resolveModelProfile("my-proxy")).toBe("classic");
  });
});

describe("ModelParams", () => {
  it("turns a profile's parameters into body fields under the configured token-limit name", () => {
    const m = new ModelParams("m", "classic", "max_tokens");
    expect(m.body(m.effective(classic))).toEqual({
      temperature: 0.8,
      top_p: 0.75,
      presence_penalty: 0.5,
      frequency_penalty: 0.25,
      max_tokens: 640,
    });
    const r = new ModelParams("r", "reasoning", "max_completion_tokens");
    expect(r.body(r.effective({ ...classic, ...reasoning }))).toEqual({
      reasoning_effort: "medium",
      verbosity: "medium",
      max_completion_tokens: reasoning.maxTokens,
    });
  });

  it("drops a refused parameter once and reports only the first refusal", () => {
    const m = new ModelParams("m", "classic", "max_tokens");
    expect(m.refuse("top_p")).toEqual({ model: "m", param: "top_p", action: "dropped" });
    expect(m.refuse("top_p")).toBeUndefined();
    expect(m.sends("top_p")).toBe(false);
    expect(m.sends("temperature")).toBe(true);
    expect(m.effective(classic)).not.toHaveProperty("topP");
  });

  it("renames the token limit once; a second refusal of the other name changes nothing", () => {
    const m = new ModelParams("m", "classic", "max_tokens");
    expect(m.refuse("max_tokens")).toEqual({
      model: "m",
      param: "max_tokens",
      action: "renamed",
      replacement: "max_completion_tokens",
    });
    expect(m.tokenLimitField).toBe("max_completion_tokens");
    expect(m.refuse("max_tokens")).toBeUndefined();
    expect(m.refuse("max_completion_tokens")).toBeUndefined();
    expect(m.sends("max_completion_tokens")).toBe(true);
  });

  it("knows which refusals it can act on", () => {
    const m = new ModelParams("m", "classic", "max_tokens");
    for (const p of ["temperature", "top_p", "reasoning_effort", "verbosity", "max_completion_tokens"]) {
      expect(m.canAdapt(p)).toBe(true);
    }
    for (const p of ["messages", "model", "response_format"]) expect(m.canAdapt(p)).toBe(false);
  });
});
