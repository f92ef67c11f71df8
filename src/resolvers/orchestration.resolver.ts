import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { debateChangedAnswers } from "../domain/answer-change.js";
import { badInput, ErrorCode } from "../domain/errors.js";
import { isTerminal, type RunStatus } from "../domain/run.js";
import { Agent } from "../schema/agent.type.js";
import { connectionOf } from "../schema/connection.type.js";
import { type ProvenanceStatus, ProvenanceStatusEnum, RunStatusEnum } from "../schema/enums.js";
import { OrchestrationEvent } from "../schema/event.type.js";
import { StartOrchestrationInput } from "../schema/orchestration.input.js";
import { Orchestration } from "../schema/orchestration.type.js";
import type { GraphQLContext } from "./context.type.js";
import { eventView } from "./event-view.js";
import { toAgentView, toRunView } from "./mappers.js";
import { pageRequest, toConnection } from "./pagination.js";

export const OrchestrationConnection = connectionOf(Orchestration, "Orchestration");

/** Most events one `events` field returns; page through longer logs with afterSeq. */
export const MAX_EVENTS_PER_READ = 1_000;

export const checkAfterSeq = (afterSeq: number | null | undefined): number => {
  const value = afterSeq ?? 0;
  if (value < 0) throw badInput(`afterSeq must be 0 or more; got ${value}.`, { argument: "afterSeq" });
  return value;
};

@Resolver(() => Orchestration)
export class OrchestrationResolver {
  @Query(() => Orchestration, { nullable: true, description: "A run of the caller's tenant, or null." })
  async orchestration(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    const run = await ctx.store.runs.get(ctx.tenantId, id);
    return run && toRunView(run);
  }

  @Query(() => OrchestrationConnection, { description: "The tenant's runs, newest first." })
  async orchestrations(
    @Ctx() ctx: GraphQLContext,
    @Arg("first", () => Int, { nullable: true }) first?: number | null,
    @Arg("after", () => String, { nullable: true }) after?: string | null,
    @Arg("status", () => RunStatusEnum, { nullable: true }) status?: RunStatus | null,
  ) {
    const page = await ctx.store.runs.list(ctx.tenantId, pageRequest(first, after), {
      status: status ?? undefined,
    });
    return toConnection(page, toRunView);
  }

  @Mutation(() => Orchestration, {
    description: "Starts a run and returns at once; follow it with orchestrationEvents.",
  })
  async startOrchestration(
    @Arg("input", () => StartOrchestrationInput) input: StartOrchestrationInput,
    @Ctx() ctx: GraphQLContext,
  ) {
    return toRunView(await ctx.orchestrator.start(ctx.tenantId, input));
  }

  @Mutation(() => Orchestration, { description: "Cancels a running run; in-flight LLM calls are aborted." })
  async cancelOrchestration(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return toRunView(await ctx.orchestrator.cancel(ctx.tenantId, id));
  }

  @Mutation(() => Orchestration, {
    description:
      "Continues an INTERRUPTED run (its server stopped mid-run): completed agents are kept, the rest run again.",
  })
  async resumeOrchestration(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return toRunView(await ctx.orchestrator.resume(ctx.tenantId, id));
  }

  @FieldResolver(() => ProvenanceStatusEnum, {
    description: "Whether the run's result is provable (its ledger entry and anchors recorded).",
  })
  async provenanceStatus(@Root() run: Orchestration, @Ctx() ctx: GraphQLContext): Promise<ProvenanceStatus> {
    if (!isTerminal(run.status)) return "PENDING";
    if (run.error?.code === ErrorCode.ProvenanceFailed) return "FAILED";
    if (run.status !== "SUCCEEDED") return "NONE";
    // A success includes its ledger entry; runs that succeeded before that rule may lack one.
    return (await ctx.provenance.ledgerProof(ctx.tenantId, run.id)) === null ? "FAILED" : "RECORDED";
  }

  @FieldResolver(() => Int, {
    description:
      "How many of the run's agents ended the debate with a different answer than they began with.",
  })
  async debateChangedAnswers(@Root() run: Orchestration, @Ctx() ctx: GraphQLContext) {
    return debateChangedAnswers(await ctx.loaders.agentsByRun.load(run.id));
  }

  @FieldResolver(() => [Agent], { description: "The run's agents in leaf (spawn) order." })
  async agents(@Root() run: Orchestration, @Ctx() ctx: GraphQLContext) {
    const agents = await ctx.loaders.agentsByRun.load(run.id);
    return agents.map((a) => toAgentView(a));
  }

  @FieldResolver(() => [OrchestrationEvent], {
    description: `Stored events after afterSeq, at most ${MAX_EVENTS_PER_READ}.`,
  })
  async events(
    @Root() run: Orchestration,
    @Ctx() ctx: GraphQLContext,
    @Arg("afterSeq", () => Int, { nullable: true }) afterSeq?: number | null,
  ) {
    const events = await ctx.store.events.list(
      ctx.tenantId,
      run.id,
      checkAfterSeq(afterSeq),
      MAX_EVENTS_PER_READ,
    );
    return Promise.all(events.map((e) => eventView(e, ctx.loaders)));
  }
}
