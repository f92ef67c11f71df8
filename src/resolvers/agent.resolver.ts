import { Arg, Ctx, ID, Int, Query, Resolver } from "type-graphql";
import type { AgentRole } from "../domain/run.js";
import { Agent } from "../schema/agent.type.js";
import { connectionOf } from "../schema/connection.type.js";
import { AgentRoleEnum } from "../schema/enums.js";
import type { GraphQLContext } from "./context.type.js";
import { toAgentView } from "./mappers.js";
import { pageRequest, toConnection } from "./pagination.js";

export const AgentConnection = connectionOf(Agent, "Agent");

@Resolver(() => Agent)
export class AgentResolver {
  @Query(() => Agent, { nullable: true, description: "An agent of the caller's tenant, or null." })
  async agent(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    const agent = await ctx.store.agents.get(ctx.tenantId, id);
    return agent && toAgentView(agent);
  }

  @Query(() => AgentConnection, { description: "The tenant's agents, newest first." })
  async agents(
    @Ctx() ctx: GraphQLContext,
    @Arg("first", () => Int, { nullable: true }) first?: number | null,
    @Arg("after", () => String, { nullable: true }) after?: string | null,
    @Arg("role", () => AgentRoleEnum, { nullable: true }) role?: AgentRole | null,
    @Arg("orchestrationId", () => ID, { nullable: true }) orchestrationId?: string | null,
  ) {
    const page = await ctx.store.agents.list(ctx.tenantId, pageRequest(first, after), {
      role: role ?? undefined,
      runId: orchestrationId ?? undefined,
    });
    return toConnection(page, (a) => toAgentView(a));
  }
}
