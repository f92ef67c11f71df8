import { evaluateConsensus } from "../domain/consensus.js";
import type { ConsensusProtocol, Debate, DebateRound, ShadowVerdict, Vote } from "../domain/run.js";
import type { LlmCallKind, LlmJsonSchema } from "../ports/llm.js";
import { AGENT_SELF_VOTE_WEIGHT, SHADOW_CHALLENGE_INTENSITY, UNVERIFIED_VOTE_WEIGHT } from "./defaults.js";
import { PROMPTS, render, spotlight } from "./prompts.js";
import { parseVerdict, VERDICT_JSON_SCHEMA } from "./verdict.js";

/** One LLM call as the debate needs it; the agent runner supplies it with the agent's genome and signal. */
export type DebateCall = (call: {
  kind: LlmCallKind;
  round: number;
  system: string;
  messages: { role: "user" | "assistant"; content: string }[];
  json: boolean;
  /** The strict schema of a JSON answer, for providers that take one. */
  schema?: LlmJsonSchema;
}) => Promise<{ content: string }>;

export interface DebateInput {
  readonly claim: string;
  readonly agentSystem: string;
  readonly maxRounds: number;
  readonly protocol: ConsensusProtocol;
  readonly call: DebateCall;
  /** Called after each round is complete, before the next starts; `final` when no round follows. */
  readonly onRound: (round: DebateRound, final: boolean) => Promise<void>;
}

export interface DebateOutcome {
  readonly finalClaim: string;
  readonly debate: Debate;
  readonly confidence: number;
  readonly verified: boolean;
}

const shadowSystem = () =>
  render(PROMPTS.shadowSystem, { intensity: Math.round(SHADOW_CHALLENGE_INTENSITY * 100) });

/**
 * The adversarial debate (docs/design.md, Semantics). Each round the shadow challenges the latest claim; a
 * challenged agent revises, and the revision is what the next round challenges. It stops when the
 * shadow agrees or after maxRounds. An unparseable verdict is retried once, then recorded as
 * UNVERIFIED and counted against the claim.
 */
export const runDebate = async (input: DebateInput): Promise<DebateOutcome> => {
  const rounds: DebateRound[] = [];
  const votes: Vote[] = [{ voter: "AGENT", agrees: true, weight: AGENT_SELF_VOTE_WEIGHT }];
  let claim = input.claim;

  for (let round = 1; round <= input.maxRounds; round++) {
    const { verdict, raw } = await challenge(input.call, claim, round);
    let rebuttal: string | null = null;
    if (verdict === null) {
      votes.push({ voter: "SHADOW", agrees: false, weight: UNVERIFIED_VOTE_WEIGHT });
    } else {
      votes.push({ voter: "SHADOW", agrees: !verdict.isChallenge, weight: verdict.confidence });
      if (verdict.isChallenge) rebuttal = await rebut(input, claim, verdict, round);
    }
    const record: DebateRound = {
      round,
      claim,
      outcome: verdict === null ? "UNVERIFIED" : verdict.isChallenge ? "CHALLENGED" : "AGREED",
      verdict,
      rawChallenge: verdict === null ? raw : null,
      rebuttal,
    };
    rounds.push(record);
    const final = record.outcome === "AGREED" || round === input.maxRounds;
    await input.onRound(record, final);
    if (rebuttal !== null) claim = rebuttal;
    if (final) break;
  }

  const consensus = evaluateConsensus(votes, input.protocol);
  return {
    finalClaim: claim,
    confidence: consensus.confidence,
    verified: consensus.reached && consensus.verdict === "UPHELD",
    debate: {
      protocol: input.protocol,
      rounds,
      votes,
      consensusReached: consensus.reached,
      verdict: consensus.verdict,
    },
  };
};

const challenge = async (
  call: DebateCall,
  claim: string,
  round: number,
): Promise<{ verdict: ShadowVerdict | null; raw: string }> => {
  const system = shadowSystem();
  const prompt = render(PROMPTS.challenge, { claim: spotlight("claim", claim) });
  const first = await call({
    kind: "CHALLENGE",
    round,
    system,
    messages: [{ role: "user", content: prompt }],
    json: true,
    schema: VERDICT_JSON_SCHEMA,
  });
  const parsed = parseVerdict(first.content);
  if (parsed.ok) return { verdict: parsed.verdict, raw: first.content };
  const second = await call({
    kind: "REPAIR",
    round,
    system,
    json: true,
    schema: VERDICT_JSON_SCHEMA,
    messages: [
      { role: "user", content: prompt },
      { role: "assistant", content: first.content },
      { role: "user", content: render(PROMPTS.repair, { problem: parsed.problem }) },
    ],
  });
  const repaired = parseVerdict(second.content);
  return repaired.ok
    ? { verdict: repaired.verdict, raw: second.content }
    : { verdict: null, raw: second.content };
};

const rebut = async (
  input: DebateInput,
  claim: string,
  verdict: ShadowVerdict,
  round: number,
): Promise<string> => {
  const challengeText = verdict.suggestedRevision
    ? `${verdict.reasoning}\n\nSuggested revision: ${verdict.suggestedRevision}`
    : verdict.reasoning;
  const reply = await input.call({
    kind: "REBUTTAL",
    round,
    system: input.agentSystem,
    json: false,
    messages: [
      {
        role: "user",
        content: render(PROMPTS.rebuttal, {
          claim: spotlight("your-previous-response", claim),
          challenge: spotlight("challenge", challengeText),
        }),
      },
    ],
  });
  return reply.content;
};
