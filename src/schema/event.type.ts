import { Field, Float, ID, Int, InterfaceType, ObjectType } from "type-graphql";
import type { BudgetScope, RunResumeReason } from "../domain/events.js";
import type { RunStatus } from "../domain/run.js";
import { Agent, AgentResult, DebateRound } from "./agent.type.js";
import { ErrorInfo } from "./common.type.js";
import { RunResumeReasonEnum, RunStatusEnum } from "./enums.js";
import { EvolutionRecord } from "./evolution.type.js";
import { AnchorReceipt } from "./provenance.type.js";
import { Review } from "./review.type.js";
import { BudgetScopeEnum } from "./usage.type.js";

@InterfaceType({
  description: "A stored step of a run. seq is 1, 2, 3 … per run without gaps.",
  resolveType: (value: { type: string }) => value.type,
})
export abstract class OrchestrationEvent {
  @Field(() => ID)
  orchestrationId!: string;

  @Field(() => Int)
  seq!: number;

  @Field()
  at!: Date;
}

@ObjectType({ implements: OrchestrationEvent })
export class RunStarted extends OrchestrationEvent {
  @Field()
  query!: string;
}

@ObjectType({
  implements: OrchestrationEvent,
  description: "An INTERRUPTED run was resumed; agents that had completed are reused, not run again.",
})
export class RunResumed extends OrchestrationEvent {
  @Field(() => [ID], { description: "Completed agents kept from before the interruption." })
  reusedAgentIds!: string[];

  @Field(() => RunResumeReasonEnum, {
    nullable: true,
    description: "Why the run continued; null in logs written before reasons were recorded.",
  })
  reason!: RunResumeReason | null;
}

@ObjectType({
  implements: OrchestrationEvent,
  description: "An agent was spawned; `agent` is its state then.",
})
export class AgentStarted extends OrchestrationEvent {
  @Field(() => Agent)
  agent!: Agent;
}

@ObjectType({ implements: OrchestrationEvent })
export class DebateRoundCompleted extends OrchestrationEvent {
  @Field(() => ID)
  agentId!: string;

  @Field(() => Int, { description: "1-based round number." })
  round!: number;

  @Field(() => DebateRound)
  debateRound!: DebateRound;
}

@ObjectType({ implements: OrchestrationEvent })
export class AgentCompleted extends OrchestrationEvent {
  @Field(() => Agent)
  agent!: Agent;

  @Field(() => AgentResult)
  result!: AgentResult;
}

@ObjectType({ implements: OrchestrationEvent })
export class AgentFailed extends OrchestrationEvent {
  @Field(() => Agent)
  agent!: Agent;

  // Nullable only so that `error` has one shape across the event types (RunFinished's is nullable);
  // it is always set here.
  @Field(() => ErrorInfo, { nullable: true, description: "Why the agent failed; always set." })
  error!: ErrorInfo;
}

@ObjectType({
  implements: OrchestrationEvent,
  description: "The run's ledger checkpoint was anchored; one event per anchor backend.",
})
export class AnchorRecorded extends OrchestrationEvent {
  @Field(() => AnchorReceipt)
  receipt!: AnchorReceipt;
}

@ObjectType({
  implements: OrchestrationEvent,
  description: "Evolution changed a role's genome after the run (also streamed on evolutionEvents).",
})
export class EvolutionApplied extends OrchestrationEvent {
  @Field(() => EvolutionRecord)
  record!: EvolutionRecord;
}

@ObjectType({
  implements: OrchestrationEvent,
  description:
    "An LLM call was not made because it could exceed a token budget; RunFinished (FAILED, BUDGET_EXCEEDED) follows.",
})
export class BudgetExceeded extends OrchestrationEvent {
  @Field(() => BudgetScopeEnum)
  scope!: BudgetScope;

  @Field(() => Int, { description: "The budget, in tokens." })
  limit!: number;

  @Field(() => Int, {
    description:
      "Tokens used of it before the refused call (for TENANT_DAY: counted today, in-flight reservations included).",
  })
  used!: number;

  @Field(() => Int, {
    description: "Tokens reserved by calls in flight and the refused call (its token limit).",
  })
  reserved!: number;
}

@ObjectType({
  implements: OrchestrationEvent,
  description: "An agent's claim waits for a person; the run is AWAITING_REVIEW once its other work settles.",
})
export class ReviewRequested extends OrchestrationEvent {
  @Field(() => Review)
  review!: Review;
}

@ObjectType({
  implements: OrchestrationEvent,
  description: "A review was decided (by a person, or its timeout) and applied where the agent waited.",
})
export class ReviewSubmitted extends OrchestrationEvent {
  @Field(() => Review)
  review!: Review;
}

@ObjectType({ implements: OrchestrationEvent, description: "The last event of a run." })
export class RunFinished extends OrchestrationEvent {
  @Field(() => RunStatusEnum)
  status!: RunStatus;

  @Field(() => String, { nullable: true })
  response!: string | null;

  @Field(() => Float, { nullable: true })
  confidence!: number | null;

  @Field(() => String, { nullable: true })
  merkleRoot!: string | null;

  @Field(() => String, { nullable: true })
  traceRoot!: string | null;

  @Field(() => ErrorInfo, { nullable: true })
  error!: ErrorInfo | null;
}

@ObjectType({ description: "A piece of an agent's streamed LLM output. Live only; not stored." })
export class AgentToken {
  @Field(() => ID)
  orchestrationId!: string;

  @Field(() => ID)
  agentId!: string;

  @Field({ description: "The call it belongs to: ANSWER, SYNTHESIS, CHALLENGE, REBUTTAL, …" })
  kind!: string;

  @Field()
  text!: string;

  @Field()
  at!: Date;
}

export const EVENT_TYPES = [
  RunStarted,
  RunResumed,
  AgentStarted,
  DebateRoundCompleted,
  AgentCompleted,
  AgentFailed,
  EvolutionApplied,
  AnchorRecorded,
  BudgetExceeded,
  ReviewRequested,
  ReviewSubmitted,
  RunFinished,
];
