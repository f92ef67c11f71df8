import { describe, expect, it } from "vitest";
import { DEFAULT_TRAITS, makeTraits, toLlmParams } from "../../src/domain/genome.js";
import { agentCount } from "../../src/domain/run.js";

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
