import { Arg, Ctx, ID, Int, Resolver, Root, Subscription } from "type-graphql";
import type { RunEvent } from "../domain/events.js";
import type { AgentToken as AgentTokenMessage } from "../ports/event-bus.js";
import { AgentToken, OrchestrationEvent } from "../schema/event.type.js";
import type { GraphQLContext } from "./context.type.js";
import { eventView } from "./event-view.js";
import { checkAfterSeq } from "./orchestration.resolver.js";

interface EventArgs {
  orchestrationId: string;
  afterSeq?: number | null;
}

@Resolver()
export class EventResolver {
  @Subscription(() => OrchestrationEvent, {
    description:
      "A run's events after afterSeq (default 0): replayed from the log, then live, without gaps or duplicates. Completes after RunFinished.",
    subscribe: ({ args, context }) => {
      const { orchestrationId, afterSeq } = args as EventArgs;
      const ctx = context as GraphQLContext;
      return ctx.orchestrator.events(ctx.tenantId, orchestrationId, checkAfterSeq(afterSeq));
    },
  })
  orchestrationEvents(
    @Root() event: RunEvent,
    @Ctx() ctx: GraphQLContext,
    @Arg("orchestrationId", () => ID) _orchestrationId: string,
    @Arg("afterSeq", () => Int, { nullable: true }) _afterSeq?: number | null,
  ) {
    return eventView(event, ctx.loaders);
  }

  @Subscription(() => AgentToken, {
    description: "Live LLM tokens of a run's agents, tagged with agentId. Not stored; not replayed.",
    subscribe: ({ args, context }) => {
      const ctx = context as GraphQLContext;
      return ctx.orchestrator.tokens(ctx.tenantId, (args as EventArgs).orchestrationId);
    },
  })
  agentTokens(@Root() token: AgentTokenMessage, @Arg("orchestrationId", () => ID) _orchestrationId: string) {
    return { ...token, orchestrationId: token.runId };
  }
}
