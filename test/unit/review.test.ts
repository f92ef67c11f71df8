import { describe, expect, it } from "vitest";
import { agentLeafHash } from "../../src/domain/leaf.js";
import { applyDecision, needsReview, REVIEW_WHEN } from "../../src/domain/review.js";
import type { AgentRole, Debate } from "../../src/domain/run.js";

const debate: Debate = {
  protocol: "MAJORITY",
  rounds: [],
  votes: [{ voter: "AGENT", agrees: true, weight: 0.5 }],
  consensusReached: false,
  verdict: "REJECTED",
};
const result = { response: "claim", confidence: 0.4, verified: false, debate };
const decided = (decision: "APPROVE" | "REJECT" | "REVISE", revision: string | null = null) => ({
  decision,
  revision,
  comment: "c",
  keyId: "key_1",
  state: "DECIDED" as const,
});

describe("review policy", () => {
  it("waits exactly where each policy says", () => {
    const cases: [AgentRole, boolean][] = [
      ["ROOT", true],
      ["ROOT", false],
      ["CRITIC", true],
      ["CRITIC", false],
    ];
    const waits = Object.fromEntries(
      REVIEW_WHEN.map((when) => [
        when,
        cases.map(([role, verified]) =>
          needsReview({ when, timeoutSeconds: 1, onTimeout: "FAIL" }, role, verified),
        ),
      ]),
    );
    expect(waits).toEqual({
      NEVER: [false, false, false, false],
      UNVERIFIED: [false, true, false, true],
      FINAL: [true, true, false, false],
      ALWAYS: [true, true, false, true],
    });
    expect(needsReview(undefined, "ROOT", false)).toBe(false);
  });
});

describe("a decision", () => {
  it("joins the debate as a HUMAN vote and decides the claim", () => {
    expect(applyDecision(result, decided("APPROVE"))).toMatchObject({
      response: "claim",
      confidence: 0.4,
      verified: true,
      debate: { verdict: "UPHELD", consensusReached: true },
    });
    expect(applyDecision(result, decided("REVISE", "better")).response).toBe("better");
    const rejected = applyDecision(result, decided("REJECT"));
    expect(rejected).toMatchObject({ confidence: 0, verified: false, debate: { verdict: "REJECTED" } });
    expect(rejected.debate.votes.at(-1)).toEqual({
      voter: "HUMAN",
      agrees: false,
      weight: 1,
      decision: "REJECT",
      keyId: "key_1",
      comment: "c",
      timedOut: false,
    });
  });

  it("is part of the leaf: another reviewer gives another leaf hash", () => {
    const leaf = (keyId: string) => {
      const r = applyDecision(result, { ...decided("APPROVE"), keyId });
      return Buffer.from(
        agentLeafHash({
          runId: "r",
          agentId: "a",
          role: "CRITIC",
          depth: 1,
          response: r.response,
          confidence: r.confidence,
          debate: r.debate,
          traits: { exploration: 0.5, precision: 0.5, creativity: 0.5, skepticism: 0.5, verbosity: 0.5 },
        }),
      ).toString("hex");
    };
    expect(leaf("key_1")).not.toBe(leaf("key_2"));
  });
});
