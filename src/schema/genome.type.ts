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

@ObjectType({ description: "The five genome traits, each in [0,1]." })
export class TraitValues {
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
}

/** A genome: its identity and lineage, the five traits (TraitValues' fields) and what they set. */
@ObjectType({ description: "Five traits in [0,1] that set an agent's LLM sampling parameters." })
export class Genome extends TraitValues {
  @Field(() => ID)
  id!: string;

  @Field(() => Int)
  generation!: number;

  @Field(() => [ID])
  parentIds!: string[];

  @Field(() => LlmParameters)
  llmParams!: LlmParameters;
}
