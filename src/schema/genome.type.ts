import { Field, Float, ID, Int, ObjectType } from "type-graphql";

@ObjectType({
  description:
    "The parameters an agent's LLM requests carried, as its genome set them for the model's profile: a classic model gets temperature, topP and the penalties; a reasoning model reasoningEffort and verbosity. A field is null when it was not sent (not in the profile, or refused by the model).",
})
export class LlmParameters {
  @Field(() => Float, { nullable: true })
  temperature!: number | null;

  @Field(() => Float, { nullable: true })
  topP!: number | null;

  @Field(() => Float, { nullable: true })
  presencePenalty!: number | null;

  @Field(() => Float, { nullable: true })
  frequencyPenalty!: number | null;

  @Field(() => Int, { description: "The completion budget (max_tokens or max_completion_tokens)." })
  maxTokens!: number;

  @Field(() => String, { nullable: true, description: "low, medium or high (reasoning models)." })
  reasoningEffort!: string | null;

  @Field(() => String, { nullable: true, description: "low, medium or high (reasoning models)." })
  verbosity!: string | null;
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
@ObjectType({ description: "Five traits in [0,1] that set an agent's LLM request parameters." })
export class Genome extends TraitValues {
  @Field(() => ID)
  id!: string;

  @Field(() => Int)
  generation!: number;

  @Field(() => [ID])
  parentIds!: string[];

  @Field(() => LlmParameters, {
    nullable: true,
    description:
      "What the agent's requests carried with this genome; null for a genome shown outside an agent (a gene pool entry).",
  })
  llmParams!: LlmParameters | null;
}
