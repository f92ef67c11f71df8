import { Field, InputType, Int } from "type-graphql";
import type { ConsensusProtocol, EvolutionMode } from "../domain/run.js";
import { ConsensusProtocolEnum, EvolutionModeEnum } from "./enums.js";
import { ReviewPolicyInput } from "./review.type.js";

@InputType({ description: "Limits on a run's token consumption." })
export class BudgetInput {
  @Field(() => Int, {
    nullable: true,
    description:
      "Most tokens (prompt + completion) the run may use. A call whose token limit could exceed what is left is not made: the run ends FAILED with BUDGET_EXCEEDED, keeping its completed agents.",
  })
  maxTotalTokens?: number | null;
}

@InputType()
export class StartOrchestrationInput {
  @Field({ description: "The question to answer. Must not be empty." })
  query!: string;

  @Field(() => Int, { nullable: true, description: "Levels of agents, 1–4. Default 2 (root + children)." })
  maxDepth?: number | null;

  @Field(() => Int, { nullable: true, description: "Children per coordinator, 1–4. Default 2." })
  agentsPerLevel?: number | null;

  @Field(() => Int, { nullable: true, description: "Debate rounds per answer, 1–5. Default 3." })
  maxDebateRounds?: number | null;

  @Field(() => ConsensusProtocolEnum, { nullable: true, description: "Default WEIGHTED_CONFIDENCE." })
  consensus?: ConsensusProtocol | null;

  @Field(() => EvolutionModeEnum, { nullable: true, description: "Default OFF." })
  evolution?: EvolutionMode | null;

  @Field(() => Int, { nullable: true, description: "Seed for the run's randomness; drawn when absent." })
  seed?: number | null;

  @Field(() => BudgetInput, { nullable: true, description: "The run's token budget; none when absent." })
  budget?: BudgetInput | null;

  @Field(() => ReviewPolicyInput, { nullable: true, description: "Human review gates; default none." })
  review?: ReviewPolicyInput | null;
}
