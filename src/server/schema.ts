import "reflect-metadata";
import type { GraphQLSchema } from "graphql";
import { DateTimeResolver } from "graphql-scalars";
import { buildSchema } from "type-graphql";
import { AgentResolver } from "../resolvers/agent.resolver.js";
import { EventResolver } from "../resolvers/event.resolver.js";
import { EvolutionResolver } from "../resolvers/evolution.resolver.js";
import { OrchestrationResolver } from "../resolvers/orchestration.resolver.js";
import { PROVENANCE_RESOLVERS } from "../resolvers/provenance.resolver.js";
import { ReviewResolver } from "../resolvers/review.resolver.js";
import { LedgerEntryUsageResolver, RunUsageResolver } from "../resolvers/run-usage.resolver.js";
import { TokenUsageResolver } from "../resolvers/usage.resolver.js";
import { EVENT_TYPES } from "../schema/event.type.js";

/**
 * type-graphql insists on a pubSub once a schema has subscriptions, even when each subscription
 * brings its own `subscribe` (ours read the event log and the EventBus). This one fails loudly if
 * anything ever tries to use topic-based subscriptions.
 */
const noTopicPubSub = {
  publish: () => {
    throw new Error("Topic-based subscriptions are not used; publish through the EventBus.");
  },
  subscribe: () => {
    throw new Error("Topic-based subscriptions are not used; give @Subscription a subscribe function.");
  },
};

/** The code-first schema. `npm run schema` prints it to the committed schema.graphql. */
export const buildVexSchema = (): Promise<GraphQLSchema> =>
  buildSchema({
    resolvers: [
      OrchestrationResolver,
      ReviewResolver,
      AgentResolver,
      EventResolver,
      EvolutionResolver,
      ...PROVENANCE_RESOLVERS,
      TokenUsageResolver,
      RunUsageResolver,
      LedgerEntryUsageResolver,
    ],
    orphanedTypes: EVENT_TYPES,
    scalarsMap: [{ type: Date, scalar: DateTimeResolver }],
    pubSub: noTopicPubSub,
    validate: false,
    emitSchemaFile: false,
  });
