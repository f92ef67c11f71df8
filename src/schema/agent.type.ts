import { Field, Float, ID, Int, ObjectType } from "type-graphql";
import type { AgentRole, AgentState, ConsensusProtocol, DebateVerdict, RoundOutcome } from "../domain/run.js";
import { ErrorInfo, TokenUsage } from "./common.type.js";
import {
  AgentRoleEnum,
  AgentStateEnum,
  ConsensusProtocolEnum,
  DebateVerdictEnum,
  RoundOutcomeEnum,
  VoterEnum,
} from "./enums.js";
import { Genome } from "./genome.type.js";

@ObjectType({ description: "A shadow challenger's parsed verdict on a claim." })
export class ShadowVerdict {
  @Field()
  isChallenge!: boolean;

  @Field(() => Float)
  confidence!: number;

  @Field()
  reasoning!: string;

  @Field(() => String, { nullable: true })
  suggestedRevision!: string | null;
}

@ObjectType()
export class DebateRound {
  @Field(() => Int)
  round!: number;

  @Field({ description: "The claim challenged this round: the answer first, then the latest revision." })
  claim!: string;

  @Field(() => RoundOutcomeEnum)
  outcome!: RoundOutcome;

  @Field(() => ShadowVerdict, {
    nullable: true,
    description: "Null when the shadow's output was unparseable.",
  })
  verdict!: ShadowVerdict | null;

  @Field(() => String, {
    nullable: true,
    description: "The shadow's raw output when it could not be parsed.",
  })
  rawChallenge!: string | null;

  @Field(() => String, { nullable: true, description: "The agent's revision when challenged." })
  rebuttal!: string | null;
}

@ObjectType()
export class Vote {
  @Field(() => VoterEnum)
  voter!: "AGENT" | "SHADOW" | "HUMAN";

  @Field()
  agrees!: boolean;

  @Field(() => Float)
  weight!: number;

  @Field(() => String, { nullable: true, description: "HUMAN votes: APPROVE, REJECT or REVISE." })
  decision?: string | null;

  @Field(() => String, { nullable: true, description: "HUMAN votes: the API key that decided." })
  keyId?: string | null;

  @Field(() => String, { nullable: true, description: "HUMAN votes: the reviewer's comment." })
  comment?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description: "HUMAN votes: true when the review's onTimeout decided.",
  })
  timedOut?: boolean | null;
}

@ObjectType()
export class Debate {
  @Field(() => ConsensusProtocolEnum)
  protocol!: ConsensusProtocol;

  @Field(() => [DebateRound])
  rounds!: DebateRound[];

  @Field(() => [Vote])
  votes!: Vote[];

  @Field()
  consensusReached!: boolean;

  @Field(() => DebateVerdictEnum)
  verdict!: DebateVerdict;
}

@ObjectType()
export class AgentResult {
  @Field({ description: "The agent's final claim after the debate." })
  response!: string;

  @Field(() => Float, { description: "Weighted share of agreement in the debate, in [0,1]." })
  confidence!: number;

  @Field({ description: "True only when consensus upheld the claim." })
  verified!: boolean;

  @Field(() => Debate)
  debate!: Debate;

  @Field({ description: "SHA-256 (hex) Merkle leaf hash of this result." })
  contextHash!: string;

  @Field(() => Int)
  leafIndex!: number;

  @Field(() => String, { nullable: true })
  traceRoot!: string | null;

  @Field(() => TokenUsage)
  tokensUsed!: TokenUsage;

  @Field(() => Int)
  latencyMs!: number;

  @Field({
    description: "Whether the debate changed the answer: the final claim differs from the first answer.",
  })
  answerChanged!: boolean;
}

@ObjectType()
export class Agent {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  orchestrationId!: string;

  @Field(() => AgentRoleEnum)
  role!: AgentRole;

  @Field()
  name!: string;

  @Field(() => Int)
  depth!: number;

  @Field(() => ID, { nullable: true })
  parentId!: string | null;

  @Field(() => AgentStateEnum)
  state!: AgentState;

  @Field(() => Genome)
  genome!: Genome;

  @Field(() => Float, { nullable: true })
  fitness!: number | null;

  @Field(() => AgentResult, { nullable: true })
  result!: AgentResult | null;

  @Field(() => [String], {
    description:
      "The distinct provider:model pairs the agent's LLM calls went to (its own and its shadow's), in first-use order; the model alone for calls recorded without a provider.",
  })
  models!: string[];

  @Field(() => ErrorInfo, { nullable: true })
  error!: ErrorInfo | null;

  @Field()
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  completedAt!: Date | null;
}
