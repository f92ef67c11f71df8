import { FieldResolver, Int, Resolver, Root } from "type-graphql";
import type { TokenUsage as TokenUsageRecord } from "../domain/run.js";
import { TokenUsage } from "../schema/common.type.js";

/** Usage stored before reasoning tokens were counted has none: it reads as 0. */
@Resolver(() => TokenUsage)
export class TokenUsageResolver {
  @FieldResolver(() => Int)
  reasoningTokens(@Root() usage: TokenUsageRecord): number {
    return usage.reasoningTokens ?? 0;
  }
}
