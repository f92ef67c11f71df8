import { describe, expect, it } from "vitest";
import {
  DEFAULT_BASE_MAX_TOKENS,
  DEFAULT_TRAITS,
  makeTraits,
  paramsForProfile,
  restrictToProfile,
  toLlmParams,
  toReasoningParams,
  unexpressedTraits,
} from "../../src/domain/genome.js";
import { agentCount, agentLlmParams } from "../../src/domain/run.js";

describe("toLlmParams", () => {
  it("maps the default genome as the design says", () => {
    expect(toLlmParams(DEFAULT_TRAITS, 1000)).toEqual({
      temperature: 0.8,
      topP: 0.75,
      presencePenalty: 0.5,
      frequencyPenalty: 0.25,
      maxTokens: 1250,
    });
  });

  it("maps the extremes to the ends of each range", () => {
    const low = toLlmParams(
      makeTraits({ exploration: 0, precision: 0, creativity: 0, skepticism: 0, verbosity: 0 }),
      1000,
    );
    const high = toLlmParams(
      makeTraits({ exploration: 1, precision: 1, creativity: 1, skepticism: 1, verbosity: 1 }),
      1000,
    );
    expect(low).toEqual({
      temperature: 0.1,
      topP: 1,
      presencePenalty: 0,
      frequencyPenalty: 0,
      maxTokens: 500,
    });
    expect(high).toEqual({
      temperature: 1.5,
      topP: 0.5,
      presencePenalty: 1,
      frequencyPenalty: 0.5,
      maxTokens: 2000,
    });
  });

  it("clamps out-of-range and non-finite traits", () => {
    const t = makeTraits({ exploration: 7, precision: -3, creativity: Number.NaN });
    expect(t).toMatchObject({ exploration: 1, precision: 0, creativity: 0.5 });
  });
});

describe("agentCount", () => {
  it("counts the agents of a complete tree", () => {
    expect(agentCount({ maxDepth: 1, agentsPerLevel: 4 })).toBe(1);
    expect(agentCount({ maxDepth: 2, agentsPerLevel: 2 })).toBe(3);
    expect(agentCount({ maxDepth: 3, agentsPerLevel: 2 })).toBe(7);
    expect(agentCount({ maxDepth: 4, agentsPerLevel: 4 })).toBe(85);
  });
});

describe("the reasoning profile", () => {
  it("maps precision to reasoning_effort and verbosity to verbosity, in thirds, with its own budget", () => {
    const at = (v: number) => makeTraits({ precision: v, verbosity: v });
    expect(toReasoningParams(at(0), 4_000)).toEqual({
      reasoningEffort: "low",
      verbosity: "low",
      maxTokens: 2_000,
    });
    expect(toReasoningParams(at(0.5), 4_000)).toEqual({
      reasoningEffort: "medium",
      verbosity: "medium",
      maxTokens: 5_000,
    });
    expect(toReasoningParams(at(1), 4_000)).toEqual({
      reasoningEffort: "high",
      verbosity: "high",
      maxTokens: 8_000,
    });
    expect(toReasoningParams(at(0.33), 100).reasoningEffort).toBe("low");
    expect(toReasoningParams(at(0.34), 100).reasoningEffort).toBe("medium");
    expect(toReasoningParams(at(0.67), 100).reasoningEffort).toBe("high");
  });

  it("picks the mapping by profile, and restricts any parameters to what a profile sends", () => {
    const bases = { classic: 1_000, reasoning: 4_000 };
    expect(paramsForProfile("classic", DEFAULT_TRAITS, bases)).toEqual(toLlmParams(DEFAULT_TRAITS, 1_000));
    expect(paramsForProfile("reasoning", DEFAULT_TRAITS, bases)).toEqual(
      toReasoningParams(DEFAULT_TRAITS, 4_000),
    );
    const everything = {
      ...toLlmParams(DEFAULT_TRAITS, 1_000),
      reasoningEffort: "low",
      verbosity: "high",
    } as const;
    expect(restrictToProfile(everything, "reasoning")).toEqual({
      maxTokens: 1_250,
      reasoningEffort: "low",
      verbosity: "high",
    });
    expect(restrictToProfile(everything, "classic")).toEqual(toLlmParams(DEFAULT_TRAITS, 1_000));
  });

  it("names the traits no parameter expresses", () => {
    expect(unexpressedTraits(toLlmParams(DEFAULT_TRAITS, 1_000))).toEqual([]);
    expect(unexpressedTraits(toReasoningParams(DEFAULT_TRAITS, 1_000))).toEqual([
      "exploration",
      "creativity",
      "skepticism",
    ]);
    expect(unexpressedTraits({ maxTokens: 10 })).toEqual([
      "exploration",
      "precision",
      "creativity",
      "skepticism",
    ]);
  });
});

describe("agentLlmParams", () => {
  const genome = { id: "g", traits: makeTraits({ exploration: 1 }), parentIds: [], generation: 0 };
  const entry = (params: Record<string, number | string>) => ({
    index: 0,
    kind: "ANSWER",
    round: 0,
    request: { system: "s", messages: [], params, json: false },
    response: { content: "c", model: "m" },
  });

  it("serves the stored parameters", () => {
    const stored = { maxTokens: 7, reasoningEffort: "high" } as const;
    expect(agentLlmParams({ genome, llmParams: stored, transcript: [] })).toEqual(stored);
  });

  it("falls back to the first recorded exchange's parameters for an agent stored before they were", () => {
    const recorded = { temperature: 0.3, topP: 0.9, presencePenalty: 0, frequencyPenalty: 0, maxTokens: 99 };
    expect(agentLlmParams({ genome, transcript: [entry(recorded)] })).toEqual(recorded);
  });

  it("else computes the classic mapping with the default base", () => {
    expect(agentLlmParams({ genome, transcript: [] })).toEqual(
      toLlmParams(genome.traits, DEFAULT_BASE_MAX_TOKENS),
    );
  });
});
