import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { buildSchema, type GraphQLInterfaceType } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import { repoRoot } from "./report.js";

/** An unbounded queue per subscriber: publish() pushes to all, end() completes them. */
const createHub = () => {
  const subscribers = new Set<{ push(v: unknown): void; end(): void }>();
  return {
    size: () => subscribers.size,
    publish(value: unknown) {
      for (const s of subscribers) s.push(value);
    },
    end() {
      for (const s of subscribers) s.end();
    },
    subscribe(): AsyncIterableIterator<unknown> {
      const queue: unknown[] = [];
      let wake: (() => void) | null = null;
      let ended = false;
      const sub = {
        push(v: unknown) {
          queue.push(v);
          wake?.();
        },
        end() {
          ended = true;
          wake?.();
        },
      };
      subscribers.add(sub);
      const iterator: AsyncIterableIterator<unknown> = {
        async next() {
          while (queue.length === 0 && !ended) await new Promise<void>((r) => (wake = r));
          wake = null;
          if (queue.length > 0) return { value: queue.shift(), done: false };
          subscribers.delete(sub);
          return { value: undefined, done: true };
        },
        async return() {
          subscribers.delete(sub);
          return { value: undefined, done: true };
        },
        [Symbol.asyncIterator]() {
          return iterator;
        },
      };
      return iterator;
    },
  };
};

export interface BareServer {
  readonly wsUrl: string;
  readonly hub: ReturnType<typeof createHub>;
  close(): Promise<void>;
}

/**
 * The fan-out baseline: a bare graphql-ws server (graphql-ws's own `useServer` on `ws`) for the
 * product's committed schema.graphql, whose `orchestrationEvents` subscription yields whatever is
 * published to its hub — no store, no bus, no limits, and an authorization check that is a string
 * comparison. The payloads are the product's own event objects, so graphql-js executes the same
 * selection over the same data.
 */
export const startBareServer = async (authorization: string): Promise<BareServer> => {
  const schema = buildSchema(readFileSync(join(repoRoot(), "schema.graphql"), "utf8"));
  const hub = createHub();
  const events = schema.getType("OrchestrationEvent") as GraphQLInterfaceType;
  events.resolveType = (value) => (value as { __typename: string }).__typename;
  const field = schema.getSubscriptionType()?.getFields().orchestrationEvents;
  if (field === undefined) throw new Error("schema.graphql has no Subscription.orchestrationEvents");
  field.subscribe = () => hub.subscribe();
  field.resolve = (payload: unknown) => payload;

  const http = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server: http, path: "/graphql" });
  const disposable = useServer(
    { schema, onConnect: (ctx) => ctx.connectionParams?.authorization === authorization },
    wss,
  );
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  return {
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    hub,
    close: async () => {
      for (const s of wss.clients) s.terminate();
      await disposable.dispose();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
};
