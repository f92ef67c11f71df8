import { describe, expect, it } from "vitest";
import { evaluateConsensus } from "../../src/domain/consensus.js";
import type { Vote } from "../../src/domain/run.js";

const agent = (weight = 0.5): Vote => ({ voter: "AGENT", agrees: true, weight });
const shadow = (agrees: boolean, weight: number): Vote => ({ voter: "SHADOW", agrees, weight });

describe("evaluateConsensus", () => {
  it("gives low confidence to a claim rejected three times at 0.9 (the seed reported 0.8)", () => {
    const votes = [agent(), shadow(false, 0.9), shadow(false, 0.9), shadow(false, 0.9)];
    for (const protocol of ["MAJORITY", "SUPER_MAJORITY", "UNANIMOUS", "WEIGHTED_CONFIDENCE"] as const) {
      const out = evaluateConsensus(votes, protocol);
      expect(out.confidence).toBeCloseTo(0.5 / 3.2, 10);
      expect(out.verdict).not.toBe("UPHELD");
    }
    expect(evaluateConsensus(votes, "WEIGHTED_CONFIDENCE")).toMatchObject({
      reached: true,
      verdict: "REJECTED",
    });
  });

  it("upholds a claim the shadow agrees with", () => {
    expect(evaluateConsensus([agent(), shadow(true, 0.9)], "WEIGHTED_CONFIDENCE")).toEqual({
      reached: true,
      verdict: "UPHELD",
      confidence: 1,
    });
  });

  it("counts a challenge then an agreement by weight", () => {
    const out = evaluateConsensus([agent(), shadow(false, 0.6), shadow(true, 0.8)], "WEIGHTED_CONFIDENCE");
    expect(out.confidence).toBeCloseTo(1.3 / 1.9, 10);
    expect(out.verdict).toBe("UPHELD");
  });

  it("honours each protocol's rule (the seed's cases)", () => {
    const twoOfThree = [agent(), shadow(true, 0.5), shadow(false, 0.5)];
    expect(evaluateConsensus(twoOfThree, "SUPER_MAJORITY")).toMatchObject({
      reached: true,
      verdict: "UPHELD",
    });
    expect(evaluateConsensus(twoOfThree, "MAJORITY")).toMatchObject({ reached: true, verdict: "UPHELD" });
    expect(evaluateConsensus(twoOfThree, "UNANIMOUS")).toMatchObject({
      reached: false,
      verdict: "UNDECIDED",
    });
    const threeOfFive = [agent(), shadow(true, 1), shadow(true, 1), shadow(false, 1), shadow(false, 1)];
    expect(evaluateConsensus(threeOfFive, "SUPER_MAJORITY")).toMatchObject({
      reached: false,
      verdict: "UNDECIDED",
    });
    expect(evaluateConsensus([agent(), shadow(false, 0.5)], "MAJORITY")).toMatchObject({ reached: false });
    expect(evaluateConsensus([agent(0.9), shadow(false, 0.4)], "WEIGHTED_CONFIDENCE").verdict).toBe("UPHELD");
    expect(evaluateConsensus([agent(0.9), shadow(false, 1.2)], "WEIGHTED_CONFIDENCE").verdict).toBe(
      "REJECTED",
    );
  });

  it("ignores non-finite and non-positive weights and clamps to [0,1]", () => {
    const out = evaluateConsensus(
      [agent(), shadow(false, Number.NaN), shadow(true, -1)],
      "WEIGHTED_CONFIDENCE",
    );
    expect(out.confidence).toBe(1);
    expect(evaluateConsensus([], "MAJORITY")).toEqual({
      reached: false,
      verdict: "UNDECIDED",
      confidence: 0,
    });
  });
});
