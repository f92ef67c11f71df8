import { Field, Int, ObjectType, registerEnumType } from "type-graphql";
import { BUDGET_SCOPES, type BudgetScope } from "../domain/events.js";
import { TokenUsage } from "./common.type.js";
import { enumOf } from "./enums.js";

export const BudgetScopeEnum = enumOf<BudgetScope>(BUDGET_SCOPES);
registerEnumType(BudgetScopeEnum, {
  name: "BudgetScope",
  description: "RUN: the run's budget.maxTotalTokens; TENANT_DAY: the tenant's token quota for the UTC day.",
});

@ObjectType({ description: "Tokens one model answered with." })
export class ModelUsage extends TokenUsage {
  @Field({ description: "The model as each response named it." })
  model!: string;
}

@ObjectType({ description: "Tokens the agents of one role used." })
export class RoleUsage extends TokenUsage {
  @Field({ description: "ROOT, RESEARCHER or CRITIC." })
  role!: string;
}

@ObjectType({
  description:
    "Token usage from the agents' transcripts: totals, per model and per role (lines sorted by name). A successful run's is committed in its ledger entry.",
})
export class UsageSummary {
  @Field(() => TokenUsage)
  total!: TokenUsage;

  @Field(() => [ModelUsage])
  byModel!: ModelUsage[];

  @Field(() => [RoleUsage])
  byRole!: RoleUsage[];
}

@ObjectType({ description: "The tenant's token usage over a window of run creation times." })
export class TenantUsage {
  @Field({ description: "Runs created at or after this time are counted." })
  since!: Date;

  @Field({ description: "Runs created before this time are counted." })
  until!: Date;

  @Field(() => Int, { description: "Runs counted." })
  runs!: number;

  @Field(() => UsageSummary)
  usage!: UsageSummary;
}

@ObjectType({ description: "A run's token budget." })
export class RunBudget {
  @Field(() => Int, { description: "Most tokens (prompt + completion) the run's LLM calls may use." })
  maxTotalTokens!: number;
}
