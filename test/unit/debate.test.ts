import { describe, expect, it } from "vitest";
import type { DebateRound } from "../../src/domain/run.js";
import { type DebateCall, runDebate } from "../../src/orchestrator/debate.js";
import { parseVerdict } from "../../src/orchestrator/verdict.js";
import { agreeVerdict, challengeVerdict } from "../fakes/scripted-llm.js";

type Call = Parameters<DebateCall>[0];

/** A debate call that answers from a list of replies in order, recording each call. */
const scripted = (replies: string[]) => {
  const calls: Call[] = [];
  const call: DebateCall = async (c) => {
    calls.push(c);
    const reply = replies.shift();
    if (reply === undefined) throw new Error(`unexpected call ${c.kind} ${c.round}`);
    return { content: reply };
  };
  return { calls, call };
};

const debate = (replies: string[], maxRounds = 3) => {
  const s = scripted(replies);
  const rounds: DebateRound[] = [];
  const run = runDebate({
    claim: "original claim",
    agentSystem: "agent system",
    maxRounds,
    protocol: "WEIGHTED_CONFIDENCE",
    call: s.call,
    onRound: async (r) => void rounds.push(r),
  });
  return { run, calls: s.calls, rounds };
};

describe("runDebate", () => {
  it("stops at the first agreement and upholds the claim", async () => {
    const d = debate([agreeVerdict(0.9)]);
    const out = await d.run;
    expect(out).toMatchObject({ finalClaim: "original claim", verified: true, confidence: 1 });
    expect(d.rounds.map((r) => r.outcome)).toEqual(["AGREED"]);
    expect(d.calls.map((c) => c.kind)).toEqual(["CHALLENGE"]);
  });

  it("challenges the latest revision each round, not the original", async () => {
    const d = debate([
      challengeVerdict(0.7),
      "revision one",
      challengeVerdict(0.6),
      "revision two",
      agreeVerdict(0.8),
    ]);
    const out = await d.run;
    expect(d.rounds.map((r) => r.claim)).toEqual(["original claim", "revision one", "revision two"]);
    expect(d.rounds.map((r) => r.rebuttal)).toEqual(["revision one", "revision two", null]);
    expect(d.calls[2]?.messages[0]?.content).toContain("revision one");
    expect(d.calls[2]?.messages[0]?.content).not.toContain("original claim");
    expect(out.finalClaim).toBe("revision two");
    expect(out.confidence).toBeCloseTo((0.5 + 0.8) / (0.5 + 0.7 + 0.6 + 0.8), 10);
  });

  it("gives a claim rejected three times at 0.9 low confidence and no verification", async () => {
    const d = debate([challengeVerdict(), "r1", challengeVerdict(), "r2", challengeVerdict(), "r3"]);
    const out = await d.run;
    expect(out.verified).toBe(false);
    expect(out.confidence).toBeCloseTo(0.5 / 3.2, 10);
    expect(out.debate.verdict).toBe("REJECTED");
    expect(out.finalClaim).toBe("r3");
  });

  it("repairs an unparseable verdict once and uses the repaired one", async () => {
    const d = debate(["I agree, looks fine!", agreeVerdict(0.9)]);
    const out = await d.run;
    expect(d.calls.map((c) => c.kind)).toEqual(["CHALLENGE", "REPAIR"]);
    expect(d.calls[1]?.messages.at(-1)?.content).toContain("not valid JSON");
    expect(out.verified).toBe(true);
    expect(d.rounds[0]?.outcome).toBe("AGREED");
  });

  it("never counts unparseable output as agreement", async () => {
    const d = debate(["agree", "still prose", "{broken", "nope", "{}", "[]"]);
    const out = await d.run;
    expect(d.rounds.map((r) => r.outcome)).toEqual(["UNVERIFIED", "UNVERIFIED", "UNVERIFIED"]);
    expect(d.rounds[0]?.rawChallenge).toBe("still prose");
    expect(out.verified).toBe(false);
    expect(out.confidence).toBeCloseTo(0.5 / 2, 10);
  });
});

describe("parseVerdict", () => {
  it("accepts the strict schema, also inside one code fence", () => {
    expect(parseVerdict(agreeVerdict(0.4))).toMatchObject({
      ok: true,
      verdict: { isChallenge: false, confidence: 0.4 },
    });
    expect(parseVerdict(`\`\`\`json\n${challengeVerdict(0.3)}\n\`\`\``)).toMatchObject({ ok: true });
  });

  it("rejects prose, out-of-range confidence, missing and extra fields", () => {
    expect(parseVerdict("I disagree").ok).toBe(false);
    expect(parseVerdict('{"isChallenge":false,"confidence":1.5,"reasoning":"x"}').ok).toBe(false);
    expect(parseVerdict('{"isChallenge":false,"reasoning":"x"}').ok).toBe(false);
    expect(parseVerdict('{"isChallenge":false,"confidence":0.5,"reasoning":"x","extra":1}').ok).toBe(false);
    expect(parseVerdict('} {"isChallenge":true}').ok).toBe(false);
  });
});
