import { AppError, ErrorCode } from "../domain/errors.js";
import type { RunEvent } from "../domain/events.js";
import type { Agent } from "../domain/run.js";
import type { GraphQLContext } from "./context.type.js";
import { toEventView } from "./mappers.js";

/**
 * The GraphQL shape of a stored or live event. An AgentCompleted names its agent, which is read by id
 * through the request's DataLoader: one read for all the agents of an event log. A subscription's
 * loader lives as long as the subscription, so a cached agent that had not completed yet when it was
 * read is read again; a completed agent never changes, so it stays valid.
 */
export const eventView = async (e: RunEvent, ctx: GraphQLContext) => {
  if (e.type !== "AgentCompleted") return toEventView(e);
  return toEventView(e, await completedAgent(ctx, e.agentId));
};

const completedAgent = async (ctx: GraphQLContext, agentId: string): Promise<Agent> => {
  let agent = await ctx.loaders.agentById.load(agentId);
  if (agent?.result == null) agent = await ctx.loaders.agentById.clear(agentId).load(agentId);
  if (agent?.result == null) {
    throw new AppError(
      ErrorCode.Internal,
      `Agent ${agentId} of a stored AgentCompleted event has no result.`,
    );
  }
  return agent;
};
