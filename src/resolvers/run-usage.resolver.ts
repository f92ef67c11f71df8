import { Arg, Ctx, FieldResolver, Query, Resolver, Root } from "type-graphql";
import { canonicalJson } from "../domain/canonical.js";
import type { LedgerEntry as LedgerEntryRecord } from "../domain/ledger.js";
import { canonicalUsage, type UsageSummary as UsageRecord } from "../domain/usage.js";
import { runUsage, tenantUsage } from "../orchestrator/usage.js";
import { Orchestration } from "../schema/orchestration.type.js";
import { LedgerEntry } from "../schema/provenance.type.js";
import { TenantUsage, UsageSummary } from "../schema/usage.type.js";
import type { GraphQLContext } from "./context.type.js";

/** Token usage: a run's (Orchestration.usage) and the tenant's over a window (usage). */
@Resolver(() => Orchestration)
export class RunUsageResolver {
  @FieldResolver(() => UsageSummary, {
    description:
      "Tokens the run used, per model and per role, from its agents' transcripts (stored when the run ends).",
  })
  async usage(
    @Root() run: Orchestration & { tenantId: string; usage?: UsageRecord | null },
    @Ctx() ctx: GraphQLContext,
  ): Promise<UsageRecord> {
    return runUsage(ctx.store, run);
  }

  @Query(() => TenantUsage, {
    name: "usage",
    description: "The caller's tenant's token usage over the runs created in [since, until).",
  })
  async tenantUsage(
    @Arg("since", () => Date) since: Date,
    @Arg("until", () => Date) until: Date,
    @Ctx() ctx: GraphQLContext,
  ) {
    return { since, until, ...(await tenantUsage(ctx.store, ctx.tenantId, since, until)) };
  }
}

/** A ledger entry's usage, as the canonical JSON its leaf data holds (so clients hash exactly that). */
@Resolver(() => LedgerEntry)
export class LedgerEntryUsageResolver {
  @FieldResolver(() => String, { nullable: true })
  usage(@Root() entry: LedgerEntryRecord): string | null {
    return entry.usage ? canonicalJson(canonicalUsage(entry.usage)) : null;
  }
}
