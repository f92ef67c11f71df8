import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { buildSchema, type GraphQLSchema, isObjectType } from "graphql";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import type { GraphQLContext } from "../../src/resolvers/context.type.js";
import type { Authenticator, Principal } from "../../src/server/auth.js";
import { createErrorFormatter } from "../../src/server/errors.js";
import { attachGraphqlWs, CLOSE_SLOW_CONSUMER } from "../../src/server/ws.js";
import { type Frame, openRaw, type RawSocket, subscribe } from "../support/raw-ws.js";
import { waitFor } from "../support/wait.js";

/**
 * Shared subscription results (src/server/shared-results.ts) through the real WebSocket glue, on a
 * small schema whose source stream hands every subscriber the same event object, as the event bus
 * does: what may share (same document, variables and principal) gets one execution per event and the
 * same payload; what may not never does; errors, completion and the slow-consumer close still work
 * per socket.
 */

interface Event {
  readonly n: number;
  readonly text: string;
  readonly fail?: boolean;
}

const SDL = /* GraphQL */ `
  type Event {
    n: Int!
    text(upper: Boolean): String!
    viewer: String!
    boom: String
  }
  type Query { ok: Boolean }
  type Subscription { events: Event! }
`;

/** A source that yields each published object, the same one, to every subscriber. */
const createHub = () => {
  const subscribers = new Set<{ push(e: Event | null): void }>();
  return {
    size: () => subscribers.size,
    publish: (e: Event) => {
      for (const s of subscribers) s.push(e);
    },
    end: () => {
      for (const s of subscribers) s.push(null);
    },
    async *subscribe(): AsyncGenerator<Event> {
      const queue: (Event | null)[] = [];
      let wake: (() => void) | undefined;
      const sub = {
        push: (e: Event | null) => {
          queue.push(e);
          wake?.();
        },
      };
      subscribers.add(sub);
      try {
        for (;;) {
          while (queue.length === 0) await new Promise<void>((r) => (wake = r));
          const e = queue.shift() ?? null;
          if (e === null) return;
          yield e;
        }
      } finally {
        subscribers.delete(sub);
      }
    },
  };
};

/** Keys of this test: the bearer value names the key; its first letter names the tenant. */
const auth: Authenticator = {
  authenticate: async (authorization) => {
    const keyId = String(authorization ?? "").replace(/^Bearer /, "");
    return { tenantId: keyId.slice(0, 1), keyId } satisfies Principal;
  },
  stillValid: async () => true,
};

/** The key whose operations hit an internal error while their context is built. */
const CRASH_KEY = "crash";

const EVENTS = "subscription Events($upper: Boolean) { events { n text(upper: $upper) viewer } }";
const BOOM = "subscription { events { n boom } }";

const servers: { http: Server; dispose(): Promise<void> }[] = [];
const sockets: RawSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.socket.terminate();
  for (const s of servers.splice(0)) {
    await s.dispose();
    await new Promise((r) => s.http.close(r));
  }
});

const start = async (env: Record<string, string> = {}) => {
  const schema: GraphQLSchema = buildSchema(SDL);
  const hub = createHub();
  let executions = 0;
  const fields = schema.getSubscriptionType()?.getFields();
  if (fields?.events === undefined) throw new Error("no Subscription.events");
  fields.events.subscribe = () => hub.subscribe();
  fields.events.resolve = (event: Event) => event;
  const event = schema.getType("Event");
  if (!isObjectType(event)) throw new Error("no type Event");
  for (const [name, field] of Object.entries(event.getFields())) {
    field.resolve = (e: Event, args: { upper?: boolean }, ctx: GraphQLContext) => {
      if (name === "n") executions++;
      if (name === "text") return args.upper ? e.text.toUpperCase() : e.text;
      if (name === "viewer") return ctx.tenantId;
      if (name === "boom") throw new Error("secret internals");
      return e[name as keyof Event];
    };
  }
  const http = createServer((_req, res) => res.writeHead(404).end());
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  const ws = attachGraphqlWs({
    server: http,
    path: "/graphql",
    schema,
    limits: loadConfig(env).limits,
    auth,
    context: (principal) => {
      // A fault of the server's own making (not the client's): the key named CRASH_KEY triggers it.
      if (principal.keyId === CRASH_KEY) throw new Error("secret internals of the context");
      return { tenantId: principal.tenantId } as GraphQLContext;
    },
    validationRules: [],
    formatError: createErrorFormatter(() => undefined),
    introspection: false,
    production: true,
  });
  servers.push({ http, dispose: ws.dispose });
  const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/graphql`;
  /** A socket for `key`, recording every message's raw text too. */
  const open = async (key: string) => {
    const socket = await openRaw(url, { init: { authorization: `Bearer ${key}` } });
    sockets.push(socket);
    const texts: string[] = [];
    socket.socket.on("message", (data: Buffer) => texts.push(String(data)));
    return { socket, texts };
  };
  const subscribed = async (count: number) => {
    await waitFor(async () => hub.size() >= count, { timeoutMs: 20_000, intervalMs: 10 });
    expect(hub.size()).toBe(count);
  };
  return { hub, open, subscribed, executions: () => executions };
};

type Payload = { data: { events: { n: number; text: string; viewer: string } } };
const nexts = (id: string) => (f: Frame) => f.type === "next" && f.id === id;
const completes = (id: string) => (f: Frame) => f.type === "complete" && f.id === id;

describe("shared subscription results", () => {
  it("executes an event once for subscribers with the same document, variables and principal", async () => {
    const server = await start();
    const a = await server.open("a1");
    const b = await server.open("a1");
    a.socket.send(subscribe("x", EVENTS, { upper: true }));
    a.socket.send(subscribe("y", EVENTS, { upper: true }));
    b.socket.send(subscribe("z", EVENTS, { upper: true }));
    await server.subscribed(3);

    server.hub.publish({ n: 1, text: "hello" });
    const payload = { data: { events: { n: 1, text: "HELLO", viewer: "a" } } };
    for (const [s, id] of [
      [a, "x"],
      [a, "y"],
      [b, "z"],
    ] as const) {
      await s.socket.waitFor(nexts(id));
      // Byte for byte what graphql-ws sends for an unshared result, with this operation's id.
      expect(s.texts).toContain(JSON.stringify({ id, type: "next", payload }));
    }
    expect(server.executions()).toBe(1);

    server.hub.end();
    await a.socket.waitFor(completes("x"));
    await a.socket.waitFor(completes("y"));
    await b.socket.waitFor(completes("z"));
    // No stand-in payload ever reaches a client.
    expect([...a.texts, ...b.texts].some((t) => t.includes("vexSharedPayload"))).toBe(false);
  });

  it("never shares between tenants, keys or variables", async () => {
    const server = await start();
    const tenantA = await server.open("a1");
    const otherKey = await server.open("a2");
    const tenantB = await server.open("b1");
    tenantA.socket.send(subscribe("1", EVENTS, { upper: false }));
    tenantA.socket.send(subscribe("2", EVENTS, { upper: true }));
    otherKey.socket.send(subscribe("3", EVENTS, { upper: false }));
    tenantB.socket.send(subscribe("4", EVENTS, { upper: false }));
    await server.subscribed(4);

    server.hub.publish({ n: 7, text: "Mixed" });
    const got = async (s: { socket: RawSocket }, id: string) =>
      (await s.socket.waitFor(nexts(id))).payload as Payload;
    expect((await got(tenantA, "1")).data.events).toMatchObject({ text: "Mixed", viewer: "a" });
    expect((await got(tenantA, "2")).data.events).toMatchObject({ text: "MIXED", viewer: "a" });
    expect((await got(otherKey, "3")).data.events).toMatchObject({ text: "Mixed", viewer: "a" });
    expect((await got(tenantB, "4")).data.events).toMatchObject({ text: "Mixed", viewer: "b" });
    expect(server.executions()).toBe(4);
  });

  it("formats a shared execution's errors for every subscriber, masking internal ones", async () => {
    const server = await start();
    const a = await server.open("a1");
    const b = await server.open("a1");
    a.socket.send(subscribe("e", BOOM));
    b.socket.send(subscribe("e", BOOM));
    await server.subscribed(2);

    server.hub.publish({ n: 3, text: "t" });
    for (const s of [a, b]) {
      const { payload } = await s.socket.waitFor(nexts("e"));
      expect(payload).toEqual({
        data: { events: { n: 3, boom: null } },
        errors: [
          {
            message: "Internal server error.",
            locations: [{ line: 1, column: 27 }],
            path: ["events", "boom"],
            extensions: { code: "INTERNAL_SERVER_ERROR" },
          },
        ],
      });
      expect(JSON.stringify(payload)).not.toContain("secret internals");
    }
    expect(server.executions()).toBe(1);
  });

  it("closes a paused reader with 4413 while a reader sharing its results gets every event", async () => {
    const MAX_BUFFERED = 1024 * 1024;
    /** Small against the limit, so that a reader that keeps up is never near it. */
    const EVENT_CHARS = 32 * 1024;
    const ROUND = 100;
    /** 256 MiB: more than any kernel's socket buffers plus the limit. */
    const MAX_ROUNDS = 80;
    const server = await start({ VEX_WS_MAX_BUFFERED_BYTES: String(MAX_BUFFERED) });
    const slow = await server.open("a1");
    const reader = await server.open("a1");
    slow.socket.send(subscribe("s", EVENTS));
    reader.socket.send(subscribe("r", EVENTS));
    await server.subscribed(2);
    slow.socket.socket.pause();

    // Round after round, the reader reads everything while the paused socket's data piles up in the
    // kernel's buffers, then in the server's, until the server gives up on it (its stream ends).
    const text = "z".repeat(EVENT_CHARS);
    let published = 0;
    let read = 0;
    for (let round = 0; round < MAX_ROUNDS && server.hub.size() === 2; round++) {
      for (let i = 0; i < ROUND; i++) server.hub.publish({ n: ++published, text });
      const last = published;
      await reader.socket.waitFor((f) => nexts("r")(f) && (f.payload as Payload).data.events.n === last);
      // In order and complete: the writes of a burst are batched, never reordered or lost.
      const ns = reader.socket.frames.filter(nexts("r")).map((f) => (f.payload as Payload).data.events.n);
      expect(ns).toEqual(Array.from({ length: ROUND }, (_, i) => read + i + 1));
      read += ns.length;
      reader.socket.frames.length = 0;
    }
    expect(server.hub.size()).toBe(1);
    slow.socket.socket.resume();
    expect((await slow.socket.closed).code).toBe(CLOSE_SLOW_CONSUMER);
    expect(slow.socket.frames.some(completes("s"))).toBe(false);

    server.hub.end();
    await reader.socket.waitFor(completes("r"));
    expect(read).toBe(published);
    expect(server.executions()).toBe(published);
  }, 60_000);
});

describe("an internal error while handling a message", () => {
  it("closes the socket with 4500 and a masked reason; other sockets go on", async () => {
    const { open } = await start();
    const { socket: healthy } = await open("a1");
    const { socket: crashing } = await open(CRASH_KEY);
    crashing.send(subscribe("x", EVENTS));
    const { code, reason } = await crashing.closed;
    expect(code).toBe(4500);
    expect(reason).toBe("Internal server error");
    healthy.send(subscribe("q", "{ ok }"));
    await healthy.waitFor((f) => f.type === "complete" && f.id === "q");
  });
});
