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
}

@ObjectType()
export class PageInfo {
  @Field()
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}
