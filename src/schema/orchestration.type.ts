import { Field, Float, ID, Int, ObjectType } from "type-graphql";
import type { ConsensusProtocol, EvolutionMode, RunStatus } from "../domain/run.js";
import { ErrorInfo, TokenUsage } from "./common.type.js";
import { ConsensusProtocolEnum, EvolutionModeEnum, RunStatusEnum } from "./enums.js";
import { ReviewPolicy } from "./review.type.js";
import { RunBudget } from "./usage.type.js";

@ObjectType({ description: "The shape a run was started with, defaults filled in." })
export class OrchestrationConfig {
  @Field(() => Int)
  maxDepth!: number;

  @Field(() => Int)
  agentsPerLevel!: number;

  @Field(() => Int)
  maxDebateRounds!: number;

  @Field(() => ConsensusProtocolEnum)
  consensus!: ConsensusProtocol;

  @Field(() => EvolutionModeEnum)
  evolution!: EvolutionMode;

  @Field(() => Int)
  seed!: number;

  @Field(() => RunBudget, { nullable: true, description: "The run's token budget; null when it has none." })
  budget!: RunBudget | null;

  @Field(() => ReviewPolicy, { nullable: true, description: "Human review gates; null means NEVER." })
  review?: ReviewPolicy | null;
}

/** `agents` and `events` are resolved by OrchestrationResolver from the store. */
@ObjectType({ description: "One orchestration run: a tree of agents answering one query." })
export class Orchestration {
  @Field(() => ID)
  id!: string;

  @Field()
  query!: string;

  @Field(() => RunStatusEnum)
  status!: RunStatus;

  @Field(() => String, { nullable: true, description: "The root agent's final, debated answer." })
  response!: string | null;

  @Field(() => Float, { nullable: true, description: "Mean confidence of the run's agents." })
  confidence!: number | null;

  @Field(() => String, {
    nullable: true,
    description: "RFC 6962 Merkle root (hex) over the agents' results.",
  })
  merkleRoot!: string | null;

  @Field(() => String, { nullable: true })
  traceRoot!: string | null;

  @Field(() => Int, { description: "Deepest level that produced a result (root only = 1)." })
  levelsProcessed!: number;

  @Field(() => [ID], { description: "Agent ids in Merkle leaf order." })
  leafOrder!: string[];

  @Field(() => OrchestrationConfig)
  config!: OrchestrationConfig;

  @Field(() => String, {
    nullable: true,
    description:
      "VEX_MODEL, which calls go to unless VEX_MODEL_ROUTES routes them elsewhere (Agent.models lists what each agent called); the offline provider says so.",
  })
  model!: string | null;

  @Field(() => TokenUsage)
  tokensUsed!: TokenUsage;

  @Field(() => ErrorInfo, { nullable: true })
  error!: ErrorInfo | null;

  @Field()
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  startedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  completedAt!: Date | null;
}
