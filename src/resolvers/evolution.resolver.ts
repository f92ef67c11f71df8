import { Arg, Ctx, Int, Query, Resolver, Root, Subscription } from "type-graphql";
import type { EvolutionRecord as EvolutionRecordValue } from "../domain/evolution.js";
import type { AgentRole } from "../domain/run.js";
import { connectionOf } from "../schema/connection.type.js";
import { AgentRoleEnum } from "../schema/enums.js";
import {
  EvolutionRecord,
  Experiment,
  GenePoolEntry,
  OptimizationRule,
  TraitCorrelation,
} from "../schema/evolution.type.js";
import type { GraphQLContext } from "./context.type.js";
import { toEvolutionRecordView, toExperimentView, toRuleView } from "./evolution.mappers.js";
import { toGenomeView } from "./mappers.js";
import { pageRequest, toConnection } from "./pagination.js";

export const ExperimentConnection = connectionOf(Experiment, "Experiment");
export const OptimizationRuleConnection = connectionOf(OptimizationRule, "OptimizationRule");
export const EvolutionRecordConnection = connectionOf(EvolutionRecord, "EvolutionRecord");

/** Thin reads of the caller's tenant's evolution state, and its live evolution stream. */
@Resolver()
export class EvolutionResolver {
  @Query(() => [GenePoolEntry], {
    description: "Per role: the current genome, its fitness, and the pool's size.",
  })
  async genePool(@Ctx() ctx: GraphQLContext) {
    const entries = await ctx.evolution.genePool(ctx.tenantId);
    return entries.map((e) => ({ ...e, genome: toGenomeView(e.genome, null) }));
  }

  @Query(() => [TraitCorrelation], {
    description:
      "Pearson r of each trait with fitness over the tenant's experiments (of one role, when given). Empty below 10 experiments.",
  })
  traitCorrelations(
    @Ctx() ctx: GraphQLContext,
    @Arg("role", () => AgentRoleEnum, { nullable: true }) role?: AgentRole | null,
  ) {
    return ctx.evolution.traitCorrelations(ctx.tenantId, role);
  }

  @Query(() => ExperimentConnection, { description: "The tenant's remembered experiments, newest first." })
  async experiments(
    @Ctx() ctx: GraphQLContext,
    @Arg("first", () => Int, { nullable: true }) first?: number | null,
    @Arg("after", () => String, { nullable: true }) after?: string | null,
  ) {
    return toConnection(
      await ctx.evolution.experiments(ctx.tenantId, pageRequest(first, after)),
      toExperimentView,
    );
  }

  @Query(() => OptimizationRuleConnection, { description: "Rules learned by consolidation, newest first." })
  async rules(
    @Ctx() ctx: GraphQLContext,
    @Arg("first", () => Int, { nullable: true }) first?: number | null,
    @Arg("after", () => String, { nullable: true }) after?: string | null,
  ) {
    return toConnection(await ctx.evolution.rules(ctx.tenantId, pageRequest(first, after)), toRuleView);
  }

  @Query(() => EvolutionRecordConnection, {
    description: "Every change to the tenant's genomes, newest first.",
  })
  async evolutionRecords(
    @Ctx() ctx: GraphQLContext,
    @Arg("first", () => Int, { nullable: true }) first?: number | null,
    @Arg("after", () => String, { nullable: true }) after?: string | null,
  ) {
    return toConnection(
      await ctx.evolution.records(ctx.tenantId, pageRequest(first, after)),
      toEvolutionRecordView,
    );
  }

  @Subscription(() => EvolutionRecord, {
    description: "Live: every change evolution makes to the caller's tenant's genomes. Not replayed.",
    subscribe: ({ context }) => {
      const ctx = context as GraphQLContext;
      return ctx.evolution.subscribe(ctx.tenantId);
    },
  })
  evolutionEvents(@Root() record: EvolutionRecordValue) {
    return toEvolutionRecordView(record);
  }
}
