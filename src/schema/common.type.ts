import { Field, Int, ObjectType } from "type-graphql";

@ObjectType({ description: "A stable error code and a human-readable message." })
export class ErrorInfo {
  @Field({ description: "Stable code, e.g. LLM_UNAVAILABLE or CANCELLED." })
  code!: string;

  @Field()
  message!: string;
}

@ObjectType()
export class TokenUsage {
  @Field(() => Int)
  promptTokens!: number;

  @Field(() => Int)
  completionTokens!: number;

  @Field(() => Int)
  totalTokens!: number;

  @Field(() => Int, {
    description:
      "Hidden reasoning tokens of reasoning models, already counted in completionTokens (0 for other models and for usage recorded before it was counted).",
  })
  reasoningTokens!: number;
}

@ObjectType()
export class PageInfo {
  @Field()
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}
