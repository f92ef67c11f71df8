import { print } from "graphql";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { OrchestrationEventsDocument, StartOrchestrationDocument } from "../../client/generated/graphql.js";
import { createVexClient, type RunEvent } from "../../client/index.js";
import type { LlmClient } from "../../src/ports/llm.js";
import { CLOSE_SLOW_CONSUMER } from "../../src/server/ws.js";
import { agreeVerdict, ScriptedLlm } from "../fakes/scripted-llm.js";
import { request } from "../support/graphql.js";
import { waitForSample } from "../support/metrics.js";
import { type Frame, openRaw, type RawSocket, subscribe } from "../support/raw-ws.js";
import { removeDir, startTestServer, type TestServer } from "../support/server.js";

const EVENTS = print(OrchestrationEventsDocument);
/** Resolves once the server holds no open WebSocket (its own count, from /metrics). */
const noSocketsLeft = (server: TestServer) =>
  waitForSample(server.url, "vex_ws_connections", (n) => n === 0, 50_000);

/** An LLM whose every call waits until `release()`; then it answers like the ScriptedLlm. */
const gatedLlm = () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const inner = new ScriptedLlm();
  const llm: LlmClient = {
    model: "gated-test-model",
    complete: async (req, options) => {
      await gate;
      return inner.complete(req, options);
    },
  };
  return { llm, release };
};

const servers: TestServer[] = [];
const sockets: RawSocket[] = [];
const start = async (env: Record<string, string>, llm?: LlmClient) => {
  const server = await startTestServer({ env, ...(llm ? { llm } : {}) });
  servers.push(server);
  return server;
};
const raw = async (server: TestServer, options?: Parameters<typeof openRaw>[1]) => {
  const socket = await openRaw(server.wsUrl, options);
  sockets.push(socket);
  return socket;
};
afterEach(async () => {
  for (const s of sockets.splice(0)) s.socket.terminate();
});
afterAll(async () => {
  for (const s of servers) {
    await s.stop();
    await removeDir(s.dataDir);
  }
});

const isComplete = (id: string) => (f: Frame) => f.type === "complete" && f.id === id;

describe("WebSocket hygiene", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await start({
      VEX_WS_MAX_PAYLOAD_BYTES: "2048",
      VEX_WS_INIT_TIMEOUT_MS: "300",
      VEX_WS_KEEPALIVE_MS: "150",
    });
  });

  it("closes a socket whose frame exceeds VEX_WS_MAX_PAYLOAD_BYTES with 1009, and serves frames below it", async () => {
    const small = await raw(server);
    small.send(subscribe("1", "{ __typename }"));
    expect(await small.waitFor((f) => f.type === "next")).toMatchObject({
      payload: { data: { __typename: "Query" } },
    });
    await small.waitFor(isComplete("1"));

    const big = await raw(server);
    big.send(subscribe("1", `{ __typename } # ${"x".repeat(4096)}`));
    expect((await big.closed).code).toBe(1009);
    // The first socket is unaffected.
    small.send(subscribe("2", "{ __typename }"));
    await small.waitFor(isComplete("2"));
  });

  it("closes a socket that sends no connection_init within VEX_WS_INIT_TIMEOUT_MS with 4408", async () => {
    const began = Date.now();
    const idle = await raw(server, { init: false });
    const { code } = await idle.closed;
    expect(code).toBe(4408);
    expect(Date.now() - began).toBeGreaterThanOrEqual(250);
    expect(Date.now() - began).toBeLessThan(3_000);
  });

  it("pings every VEX_WS_KEEPALIVE_MS and terminates a peer that never answers", async () => {
    const alive = await raw(server);
    // Two pings, each answered: the second proves the first answer kept the socket alive.
    await new Promise<void>((twoPings) => {
      let pings = 0;
      alive.socket.on("ping", () => {
        if (++pings === 2) twoPings();
      });
    });
    expect(alive.socket.readyState).toBe(alive.socket.OPEN);

    const mute = await raw(server, { autoPong: false });
    const { code } = await mute.closed;
    // Terminated without a close frame: the peer sees an abnormal closure.
    expect(code).toBe(1006);
  });

  it("refuses a socket that does not speak graphql-transport-ws (4406)", async () => {
    const other = await raw(server, { protocol: null, init: false });
    expect((await other.closed).code).toBe(4406);
  });
});

describe("subscriptions per connection", () => {
  it("rejects the operation beyond VEX_WS_MAX_SUBSCRIPTIONS with CONCURRENCY_LIMITED; the others keep working", async () => {
    const { llm, release } = gatedLlm();
    const server = await start({ VEX_WS_MAX_SUBSCRIPTIONS: "2" }, llm);
    const { startOrchestration: run } = await request(server.url, StartOrchestrationDocument, {
      input: { query: "q", maxDepth: 1 },
    });
    const socket = await raw(server);
    const vars = { orchestrationId: run.id, afterSeq: 0 };
    socket.send(subscribe("a", EVENTS, vars));
    socket.send(subscribe("b", EVENTS, vars));
    // Both are live (their replay arrived) before the third asks.
    await socket.waitFor((f) => f.type === "next" && f.id === "a");
    await socket.waitFor((f) => f.type === "next" && f.id === "b");
    socket.send(subscribe("c", EVENTS, vars));
    const refused = await socket.waitFor((f) => f.id === "c");
    expect(refused).toMatchObject({
      type: "error",
      payload: [
        {
          message: expect.stringMatching(/At most 2 operations/),
          extensions: { code: "CONCURRENCY_LIMITED", limit: 2 },
        },
      ],
    });

    release();
    for (const id of ["a", "b"]) {
      await socket.waitFor(isComplete(id));
      const last = socket.frames.filter((f) => f.type === "next" && f.id === id).at(-1) as {
        payload: { data: { orchestrationEvents: { __typename: string } } };
      };
      expect(last.payload.data.orchestrationEvents.__typename).toBe("RunFinished");
    }
    // The cap counts operations in flight, not operations ever run on the socket.
    socket.send(subscribe("d", "{ __typename }"));
    await socket.waitFor(isComplete("d"));
    expect(socket.frames.filter((f) => f.type === "error")).toHaveLength(1);
  });
});

describe("slow consumers", () => {
  /** Each event is far below the buffer limit; only their sum exceeds it. */
  const ANSWER_CHARS = 48 * 1024;
  const MAX_BUFFERED = 256 * 1024;
  /** 1 + 4 + 16 + 64 = 85 agents, each with a large answer: a log of well over 8 MiB. */
  const BIG_RUN = { maxDepth: 4, agentsPerLevel: 4, maxDebateRounds: 1 };
  const bigAnswers = () =>
    new ScriptedLlm((req) =>
      req.tag.kind === "CHALLENGE" || req.tag.kind === "REPAIR"
        ? agreeVerdict()
        : `${req.tag.role}:`.padEnd(ANSWER_CHARS, "z"),
    );

  /** The run's whole log through the SDK, which resumes a subscription that was cut (4413 included). */
  const readWholeLog = async (server: TestServer, runId: string): Promise<RunEvent[]> => {
    const vex = createVexClient({ webSocketImpl: WebSocket, url: server.url, retry: { baseDelayMs: 1 } });
    try {
      const events: RunEvent[] = [];
      for await (const e of vex.watch(runId)) events.push(e);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(events.at(-1)?.__typename).toBe("RunFinished");
      return events;
    } finally {
      await vex.close();
    }
  };

  it("closes a reader that stops reading a large replay with 4413; the bound holds", async () => {
    const server = await start({ VEX_WS_MAX_BUFFERED_BYTES: String(MAX_BUFFERED) }, bigAnswers());
    const { startOrchestration: run } = await request(server.url, StartOrchestrationDocument, {
      input: { query: "big", ...BIG_RUN },
    });
    // A client that reads gets the whole log: one that falls behind by more than the bound is cut
    // and resumes after the last seq it got, as the SDK does (docs/security.md), with no gap and no
    // repeat. That measures one replay.
    const all = await readWholeLog(server, run.id);
    const replayBytes = all.reduce((n, e) => n + JSON.stringify(e).length, 0);
    expect(replayBytes).toBeGreaterThan(8 * 1024 * 1024);

    const slow = await raw(server);
    slow.socket.pause();
    slow.send(subscribe("s", EVENTS, { orchestrationId: run.id, afterSeq: 0 }));
    // The server fills the kernel's socket buffers, then its own up to the limit, then gives up:
    // its last socket is gone. Only then does the reader resume (to read up to the close frame).
    await noSocketsLeft(server);
    slow.socket.resume();
    const { code, reason } = await slow.closed;
    expect(code).toBe(CLOSE_SLOW_CONSUMER);
    expect(reason).toMatch(/slow consumer/i);
    // What reached the reader is what the kernel held plus at most the limit: not the whole log.
    expect(slow.receivedBytes()).toBeLessThan(replayBytes);
    expect(slow.frames.some(isComplete("s"))).toBe(false);

    // The server is fine, and a reading client still gets everything.
    expect(await readWholeLog(server, run.id)).toEqual(all);
  }, 60_000);

  it("closes a paused reader of a live run with 4413 instead of queueing the run's events for it", async () => {
    const gated = gatedLlm();
    const answers = bigAnswers();
    const llm: LlmClient = {
      model: "gated-big",
      complete: async (req, options) => {
        await gated.llm.complete(req, options);
        return answers.complete(req, options);
      },
    };
    const server = await start({ VEX_WS_MAX_BUFFERED_BYTES: String(MAX_BUFFERED) }, llm);
    const { startOrchestration: run } = await request(server.url, StartOrchestrationDocument, {
      input: { query: "live", ...BIG_RUN },
    });
    const slow = await raw(server);
    slow.send(subscribe("l", EVENTS, { orchestrationId: run.id }));
    await slow.waitFor((f) => f.type === "next" && f.id === "l");
    slow.socket.pause();
    gated.release();
    await noSocketsLeft(server);
    slow.socket.resume();
    expect((await slow.closed).code).toBe(CLOSE_SLOW_CONSUMER);
  }, 60_000);
});

describe("close codes of protocol violations (README: WebSocket close codes)", () => {
  let server: TestServer;
  let runId: string;
  let release: () => void;
  beforeAll(async () => {
    const gated = gatedLlm();
    release = gated.release;
    server = await start({}, gated.llm);
    // A run whose calls wait: its event subscription stays in flight.
    runId = (await request(server.url, StartOrchestrationDocument, { input: { query: "q", maxDepth: 1 } }))
      .startOrchestration.id;
  });
  afterAll(() => release());

  it("4400 for a frame that is not JSON, and for a message only a server may send", async () => {
    const garbage = await raw(server);
    garbage.send("this is not json");
    expect((await garbage.closed).code).toBe(4400);
    const impostor = await raw(server);
    impostor.send({ type: "next", id: "1", payload: { data: {} } });
    expect((await impostor.closed).code).toBe(4400);
  });

  it("4401 for a subscribe before the connection was acknowledged", async () => {
    const early = await raw(server, { init: false });
    early.send(subscribe("1", "{ __typename }"));
    expect((await early.closed).code).toBe(4401);
  });

  it("4409 for a subscribe whose id is already in flight on the socket", async () => {
    const socket = await raw(server);
    socket.send(subscribe("x", EVENTS, { orchestrationId: runId, afterSeq: 0 }));
    await socket.waitFor((f) => f.type === "next" && f.id === "x");
    socket.send(subscribe("x", EVENTS, { orchestrationId: runId, afterSeq: 0 }));
    expect((await socket.closed).code).toBe(4409);
  });

  it("4429 for a second connection_init", async () => {
    const twice = await raw(server);
    twice.send({ type: "connection_init", payload: {} });
    expect((await twice.closed).code).toBe(4429);
  });

  it("1001 when the server shuts down", async () => {
    const leaving = await startTestServer();
    try {
      const socket = await raw(leaving);
      const stopped = leaving.stop();
      expect((await socket.closed).code).toBe(1001);
      await stopped;
    } finally {
      await removeDir(leaving.dataDir);
    }
  });
});

describe("sockets that close during connection_init", () => {
  it("are not kept: a socket gone while its key was being checked leaves no connection behind", async () => {
    const server = await start({});
    // Each sends connection_init and disappears at once, often while the server still checks the key.
    for (let i = 0; i < 20; i++) {
      const gone = await raw(server, { init: false });
      gone.send({ type: "connection_init", payload: {} });
      gone.socket.terminate();
      await gone.closed;
    }
    await waitForSample(server.url, "vex_ws_connections", (n) => n === 0, 10_000);
  });
});
