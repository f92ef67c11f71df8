import { Field, Float, ID, Int, ObjectType } from "type-graphql";

@ObjectType({ description: "The sampling parameters a genome sets on every LLM request of its agent." })
export class LlmParameters {
  @Field(() => Float)
  temperature!: number;

  @Field(() => Float)
  topP!: number;

  @Field(() => Float)
  presencePenalty!: number;

  @Field(() => Float)
  frequencyPenalty!: number;

  @Field(() => Int)
  maxTokens!: number;
}

@ObjectType({ description: "Five traits in [0,1] that set an agent's LLM sampling parameters." })
export class Genome {
  @Field(() => ID)
  id!: string;

  @Field(() => Int)
  generation!: number;

  @Field(() => [ID])
  parentIds!: string[];

  @Field(() => Float)
  exploration!: number;

  @Field(() => Float)
  precision!: number;

  @Field(() => Float)
  creativity!: number;

  @Field(() => Float)
  skepticism!: number;

  @Field(() => Float)
  verbosity!: number;

  @Field(() => LlmParameters)
  llmParams!: LlmParameters;
}
