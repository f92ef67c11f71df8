import { Arg, Ctx, Int, Mutation, Query, Resolver } from "type-graphql";
import { AppError, ErrorCode } from "../domain/errors.js";
import type { ReviewService } from "../orchestrator/reviews.js";
import { connectionOf } from "../schema/connection.type.js";
import { Review, SubmitReviewInput } from "../schema/review.type.js";
import type { GraphQLContext } from "./context.type.js";
import { toReviewView } from "./mappers.js";
import { pageRequest, toConnection } from "./pagination.js";

export const ReviewConnection = connectionOf(Review, "Review");

const serviceOf = (ctx: GraphQLContext): ReviewService => {
  const reviews = ctx.orchestrator.reviews;
  if (reviews === null) throw new AppError(ErrorCode.Internal, "This server keeps no reviews.");
  return reviews;
};

@Resolver(() => Review)
export class ReviewResolver {
  @Query(() => ReviewConnection, {
    description: "The tenant's reviews waiting for a person (human review gates), newest first.",
  })
  async pendingReviews(
    @Ctx() ctx: GraphQLContext,
    @Arg("first", () => Int, { nullable: true }) first?: number | null,
    @Arg("after", () => String, { nullable: true }) after?: string | null,
  ) {
    const page = await serviceOf(ctx).pending(ctx.tenantId, pageRequest(first, after));
    return toConnection(page, toReviewView);
  }

  @Mutation(() => Review, {
    description:
      "Decides a pending review (once; a second decision is REVIEW_ALREADY_DECIDED) and continues its run. The decision joins the agent's debate as a HUMAN vote with the caller's key id.",
  })
  async submitReview(
    @Arg("input", () => SubmitReviewInput) input: SubmitReviewInput,
    @Ctx() ctx: GraphQLContext,
  ) {
    return toReviewView(await serviceOf(ctx).submit(ctx.tenantId, ctx.keyId, input));
  }
}
