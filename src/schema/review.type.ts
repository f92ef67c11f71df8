import { Field, ID, InputType, Int, ObjectType } from "type-graphql";
import type { ReviewDecision, ReviewOnTimeout, ReviewState, ReviewWhen } from "../domain/review.js";
import type { AgentRole } from "../domain/run.js";
import { Debate } from "./agent.type.js";
import {
  AgentRoleEnum,
  ReviewDecisionEnum,
  ReviewOnTimeoutEnum,
  ReviewStateEnum,
  ReviewWhenEnum,
} from "./enums.js";

@InputType({ description: "When a run's answers wait for a person (human review gates)." })
export class ReviewPolicyInput {
  @Field(() => ReviewWhenEnum, {
    nullable: true,
    description:
      "NEVER (default); UNVERIFIED: an agent whose debate did not uphold its claim waits before its parent uses it; FINAL: the root's answer waits before the run finishes; ALWAYS: both.",
  })
  when?: ReviewWhen | null;

  @Field(() => Int, {
    nullable: true,
    description: "Seconds a review waits for a person, 1–2592000 (30 days). Default 86400 (1 day).",
  })
  timeoutSeconds?: number | null;

  @Field(() => ReviewOnTimeoutEnum, {
    nullable: true,
    description:
      "What a review nobody decided in time becomes. Default FAIL (the run ends REVIEW_TIMED_OUT).",
  })
  onTimeout?: ReviewOnTimeout | null;
}

@ObjectType({ description: "A run's review policy." })
export class ReviewPolicy {
  @Field(() => ReviewWhenEnum)
  when!: ReviewWhen;

  @Field(() => Int)
  timeoutSeconds!: number;

  @Field(() => ReviewOnTimeoutEnum)
  onTimeout!: ReviewOnTimeout;
}

@ObjectType({ description: "An agent's claim waiting for (or decided by) a person." })
export class Review {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  orchestrationId!: string;

  @Field(() => ID)
  agentId!: string;

  @Field(() => AgentRoleEnum)
  role!: AgentRole;

  @Field({ description: "The claim as the agent's debate left it." })
  claim!: string;

  @Field(() => Debate, { description: "The agent's debate before the review." })
  debate!: Debate;

  @Field(() => ReviewStateEnum)
  state!: ReviewState;

  @Field(() => String, { nullable: true, description: "APPROVE, REJECT, REVISE, or FAIL (a timeout)." })
  decision!: ReviewDecision | "FAIL" | null;

  @Field(() => String, { nullable: true })
  revision!: string | null;

  @Field(() => String, { nullable: true })
  comment!: string | null;

  @Field(() => String, { nullable: true, description: "The API key that decided; null for a timeout." })
  keyId!: string | null;

  @Field()
  createdAt!: Date;

  @Field({ description: "When onTimeout applies if nobody decides." })
  deadline!: Date;

  @Field(() => Date, { nullable: true })
  decidedAt!: Date | null;
}

@InputType()
export class SubmitReviewInput {
  @Field(() => ID)
  orchestrationId!: string;

  @Field(() => ID)
  reviewId!: string;

  @Field(() => ReviewDecisionEnum)
  decision!: ReviewDecision;

  @Field(() => String, { nullable: true, description: "The replacement claim; required for REVISE." })
  revision?: string | null;

  @Field(() => String, { nullable: true })
  comment?: string | null;
}
