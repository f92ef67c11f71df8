import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { OrchestrationDocument } from "../../client/generated/graphql.js";
import {
  createVexClient,
  type ReconnectInfo,
  type RunEvent,
  type RunEventOf,
  VexError,
  VexUnreachableError,
  verifyRun,
} from "../../client/index.js";
import type { LlmClient } from "../../src/ports/llm.js";
import { defaultScript, ScriptedLlm } from "../fakes/scripted-llm.js";
import { allOf, deferred } from "../support/async.js";
import { createTestKey } from "../support/keys.js";
import { removeDir, startTestServer, type TestServer } from "../support/server.js";

// Only the SDK (and through it the generated documents) talks to the server here.

/** A port on loopback with nothing listening. */
const closedPort = () =>
  new Promise<number>((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });

const collect = (events: AsyncIterable<RunEvent>) => allOf(events);

const ofType = <T extends RunEvent["__typename"]>(events: RunEvent[], t: T) =>
  events.filter((e): e is RunEventOf<T> => e.__typename === t);

/** WebSocket constructors that record every socket, so tests can see what happened to each one. */
const recordingWebSocket = (options: { firstWithoutPong?: boolean } = {}) => {
  const sockets: { socket: WebSocket; closeCode: Promise<number> }[] = [];
  class Recording extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      // The first socket ignores the server's pings, so the server's keep-alive terminates it.
      super(url, protocols, { autoPong: !(options.firstWithoutPong && sockets.length === 0) });
      const closeCode = new Promise<number>((r) => this.once("close", (code: number) => r(code)));
      sockets.push({ socket: this, closeCode });
    }
  }
  return { Impl: Recording, sockets };
};

describe("the SDK against a live server", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.stop();
    await removeDir(server.dataDir);
  });

  it("watches a full run to completion: every event once, in order, matching the stored run", async () => {
    const vex = createVexClient({ webSocketImpl: WebSocket, url: server.url });
    const started = await vex.startOrchestration({ query: "Why is the sky blue?", maxDebateRounds: 2 });
    expect(started.status).toBe("PENDING");

    const events = await collect(vex.watch(started.id));
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events[0]?.__typename).toBe("RunStarted");
    expect(events.at(-1)?.__typename).toBe("RunFinished");
    expect(events.every((e) => e.orchestrationId === started.id)).toBe(true);

    // The stream is exactly the stored event log.
    expect(await vex.eventLog(started.id)).toEqual(events);

    const run = await vex.orchestration(started.id);
    expect(run?.status).toBe("SUCCEEDED");
    const finished = ofType(events, "RunFinished")[0];
    expect(finished).toMatchObject({
      status: "SUCCEEDED",
      response: run?.response,
      confidence: run?.confidence,
      merkleRoot: run?.merkleRoot,
      traceRoot: run?.traceRoot,
    });
    const agentIds = (run?.agents ?? []).map((a) => a.id).sort();
    expect(agentIds).toHaveLength(3);
    expect(
      ofType(events, "AgentStarted")
        .map((e) => e.agent.id)
        .sort(),
    ).toEqual(agentIds);
    expect(
      ofType(events, "AgentCompleted")
        .map((e) => e.agent.id)
        .sort(),
    ).toEqual(agentIds);
    for (const agent of run?.agents ?? []) {
      const rounds = ofType(events, "DebateRoundCompleted").filter((e) => e.agentId === agent.id);
      expect(rounds.map((r) => r.round)).toEqual(agent.result?.debate.rounds.map((r) => r.round));
    }

    // Resuming from the middle yields exactly the rest.
    expect(await collect(vex.watch(started.id, { afterSeq: 4 }))).toEqual(events.slice(4));

    // The queries and the lists agree.
    const page = await vex.orchestrations({ first: 5 });
    expect(page.edges.map((e) => e.node.id)).toContain(started.id);
    const agents = await vex.agents({ orchestrationId: started.id });
    expect(agents.edges.map((e) => e.node.id).sort()).toEqual(agentIds);
    expect(await vex.agent(agentIds[0] ?? "")).toEqual(run?.agents.find((a) => a.id === agentIds[0]));
    // Any generated document goes through request(), typed by the document.
    const raw = await vex.request(OrchestrationDocument, { id: started.id });
    expect(raw.orchestration).toEqual(run);
  });

  it("reports the server's error codes as typed VexErrors", async () => {
    const vex = createVexClient({ webSocketImpl: WebSocket, url: server.url });
    const badInput = await vex.startOrchestration({ query: "" }).catch((e: unknown) => e);
    expect(badInput).toBeInstanceOf(VexError);
    expect(badInput).toMatchObject({ code: "BAD_USER_INPUT" });
    const tooDeep = await vex.startOrchestration({ query: "q", maxDepth: 99 }).catch((e: unknown) => e);
    expect(tooDeep).toMatchObject({ code: "BAD_USER_INPUT" });

    await expect(vex.cancelOrchestration("no-such-run")).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(collect(vex.watch("no-such-run"))).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await vex.orchestration("no-such-run")).toBeNull();
    expect(await vex.eventLog("no-such-run")).toBeNull();
  });

  it("releases the socket when the consumer stops early", async () => {
    const { Impl, sockets } = recordingWebSocket();
    const vex = createVexClient({ url: server.url, webSocketImpl: Impl });
    const started = await vex.startOrchestration({ query: "stop early" });
    const watch = vex.watch(started.id);
    const first = await watch.next();
    expect(first.value).toMatchObject({ __typename: "RunStarted", seq: 1 });
    await watch.return();
    expect(await sockets[0]?.closeCode).toBe(1000);
    expect(await watch.next()).toEqual({ done: true, value: undefined });
    await collect(vex.watch(started.id)); // let the run finish before the server stops
  });
});

describe("watch survives a server-side disconnect in the middle of a run", () => {
  // The root's synthesis waits until the test has seen the disconnect, so the drop is mid-run.
  const synthesis = deferred();
  const scripted = new ScriptedLlm((req, turn) => ({
    content: String(defaultScript(req, turn)),
    delayMs: 20,
  }));
  const llm: LlmClient = {
    model: scripted.model,
    complete: async (req, opts) => {
      if (req.tag.kind === "SYNTHESIS") await synthesis.promise;
      return scripted.complete(req, opts);
    },
  };
  let server: TestServer;
  beforeAll(async () => {
    // Keep-alive 100 ms: the server pings each socket every 100 ms and terminates one whose pong does not
    // come back within 100 ms — a server-side close of a socket that is otherwise working.
    server = await startTestServer({ llm, env: { VEX_WS_KEEPALIVE_MS: "100" } });
  });
  afterAll(async () => {
    synthesis.open();
    await server.stop();
    await removeDir(server.dataDir);
  });

  it("resumes with afterSeq and delivers a complete, ordered, duplicate-free event list", async () => {
    const { Impl, sockets } = recordingWebSocket({ firstWithoutPong: true });
    const vex = createVexClient({ url: server.url, webSocketImpl: Impl, retry: { baseDelayMs: 20 } });
    const started = await vex.startOrchestration({ query: "survive a disconnect" });

    const reconnects: ReconnectInfo[] = [];
    const events = await collect(
      vex.watch(started.id, {
        onReconnect: (info) => {
          reconnects.push(info);
          synthesis.open();
        },
      }),
    );

    // The server closed the first socket (terminated: 1006 on the client) while the run was going on.
    expect(await sockets[0]?.closeCode).toBe(1006);
    expect(sockets.length).toBeGreaterThanOrEqual(2);
    expect(reconnects.length).toBeGreaterThanOrEqual(1);
    const drop = reconnects[0] as ReconnectInfo;
    expect(drop.reason).toMatch(/1006/);
    expect(drop.afterSeq).toBeGreaterThanOrEqual(1);
    expect(drop.afterSeq).toBeLessThan(events.length);

    // Complete, ordered, no duplicates — and identical to what the server stored.
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual(events.map((_, i) => i + 1));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(events.at(-1)).toMatchObject({ __typename: "RunFinished", status: "SUCCEEDED" });
    expect(await vex.eventLog(started.id)).toEqual(events);
    // Events from after the drop arrived on the new socket.
    expect(events.filter((e) => e.seq > drop.afterSeq).length).toBeGreaterThan(0);
  });
});

describe("watch survives a server restart", () => {
  it("retries while the server is down, then replays the rest from the store", async () => {
    const hanging = new ScriptedLlm((req) => (req.tag.kind === "ANSWER" ? { hang: true } : "unused"));
    const env = { VEX_SHUTDOWN_TIMEOUT_MS: "50" };
    const first = await startTestServer({ llm: hanging, env });
    const port = new URL(first.url).port;
    let second: TestServer | undefined;
    try {
      const vex = createVexClient({
        url: first.url,
        webSocketImpl: WebSocket,
        retry: { baseDelayMs: 50, maxDelayMs: 200, attempts: 30 },
      });
      const started = await vex.startOrchestration({ query: "outlive the server" });
      const reconnects: ReconnectInfo[] = [];
      const events: RunEvent[] = [];
      for await (const e of vex.watch(started.id, { onReconnect: (r) => reconnects.push(r) })) {
        events.push(e);
        if (e.__typename === "AgentStarted" && events.length === 2) {
          // Going away (1001) with the run in flight, handed back; a new process on the same data resumes it.
          await first.stop();
          second = await startTestServer({ dataDir: first.dataDir, env: { ...env, PORT: port } });
        }
      }
      expect(reconnects[0]?.reason).toMatch(/1001/);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(events.find((e) => e.__typename === "RunResumed")).toMatchObject({ reason: "SERVER_RESTART" });
      expect(events.filter((e) => e.__typename === "RunFinished")).toHaveLength(1);
      expect(events.at(-1)).toMatchObject({ __typename: "RunFinished", status: "SUCCEEDED" });
      expect(await vex.eventLog(started.id)).toEqual(events);
    } finally {
      await first.stop();
      await second?.stop();
      await removeDir(first.dataDir);
    }
  });
});

describe("refusals and an unreachable server", () => {
  let server: TestServer;
  let key: string;
  beforeAll(async () => {
    server = await startTestServer({ env: { VEX_RATE_LIMIT_PER_MINUTE: "1", VEX_RATE_LIMIT_BURST: "0" } });
    key = (await createTestKey(server.dataDir, "acme")).key;
  });
  afterAll(async () => {
    await server.stop();
    await removeDir(server.dataDir);
  });

  it("a wrong or missing key is UNAUTHENTICATED over HTTP and over WebSocket", async () => {
    const wrong = createVexClient({
      webSocketImpl: WebSocket,
      url: server.url,
      apiKey: `vex_${"A".repeat(43)}`,
    });
    const http = await wrong.orchestrations().catch((e: unknown) => e);
    expect(http).toBeInstanceOf(VexError);
    expect(http).toMatchObject({ code: "UNAUTHENTICATED", status: 401 });
    await expect(collect(wrong.watch("any"))).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
    const none = createVexClient({ webSocketImpl: WebSocket, url: server.url });
    await expect(none.orchestrations()).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
  });

  it("a valid key works, and too many runs are RATE_LIMITED with the server's details", async () => {
    const vex = createVexClient({ webSocketImpl: WebSocket, url: server.url, apiKey: key });
    const run = await vex.startOrchestration({ query: "first" });
    const limited = await vex.startOrchestration({ query: "second" }).catch((e: unknown) => e);
    expect(limited).toMatchObject({ code: "RATE_LIMITED" });
    expect((limited as VexError).extensions.retryAfterSeconds).toBeGreaterThan(0);
    expect((await collect(vex.watch(run.id))).at(-1)?.__typename).toBe("RunFinished");
  });

  it("an unreachable server is a VexUnreachableError, over HTTP and from watch", async () => {
    const url = `http://127.0.0.1:${await closedPort()}/graphql`;
    const vex = createVexClient({ webSocketImpl: WebSocket, url, retry: { attempts: 2, baseDelayMs: 10 } });
    const http = await vex.orchestrations().catch((e: unknown) => e);
    expect(http).toBeInstanceOf(VexUnreachableError);
    expect(http).toMatchObject({ code: "SERVER_UNREACHABLE", url });
    expect((http as Error).message).toMatch(/ECONNREFUSED/);
    const reconnects: ReconnectInfo[] = [];
    const ws = await collect(vex.watch("x", { onReconnect: (r) => reconnects.push(r) })).catch(
      (e: unknown) => e,
    );
    expect(ws).toBeInstanceOf(VexUnreachableError);
    expect((ws as Error).message).toMatch(/ECONNREFUSED.*gave up after 2 retries/);
    expect(reconnects.map((r) => r.attempt)).toEqual([1, 2]);
  });

  it("something that is not a GraphQL endpoint is a BAD_RESPONSE", async () => {
    const vex = createVexClient({ webSocketImpl: WebSocket, url: server.url.replace(/\/graphql$/, "/nope") });
    await expect(vex.orchestrations()).rejects.toMatchObject({ code: "BAD_RESPONSE", status: 404 });
  });
});

describe("tokens, evolution and verification through the client", () => {
  // Answers stream slowly enough that the token stream, opened with the run, sees them.
  const llm = new ScriptedLlm((req, turn) =>
    req.tag.kind === "ANSWER"
      ? { content: `${req.tag.role} streamed answer`, delayMs: 300 }
      : defaultScript(req, turn),
  );
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ llm });
  });
  afterAll(async () => {
    await server.stop();
    await removeDir(server.dataDir);
  });

  it("streams a run's tokens, reports its evolution step, and verifies it, signature included", async () => {
    const vex = createVexClient({ url: server.url, webSocketImpl: WebSocket });
    const stop = new AbortController();
    const evolved = (async () => {
      for await (const record of vex.evolution.events({ signal: stop.signal })) return record;
      return null;
    })();
    const run = await vex.startOrchestration({ query: "stream, evolve, prove", evolution: "GENETIC" });
    const tokens = (async () => {
      const seen: { agentId: string; kind: string; text: string }[] = [];
      for await (const t of vex.tokens(run.id, { signal: stop.signal })) seen.push(t);
      return seen;
    })();
    const events = await collect(vex.watch(run.id));
    expect(events.at(-1)).toMatchObject({ __typename: "RunFinished", status: "SUCCEEDED" });
    const record = await evolved;
    stop.abort();

    const answers = (await tokens).filter((t) => t.kind === "ANSWER").map((t) => t.text);
    expect(answers.sort()).toEqual(["CRITIC streamed answer", "RESEARCHER streamed answer"]);
    expect(record).toMatchObject({ orchestrationId: run.id });
    const records = await vex.evolution.records({ first: 10 });
    expect(records.edges.map((e) => e.node.id)).toContain(record?.id);

    const verification = await verifyRun(vex, run.id);
    expect(verification.checks.filter((c) => !c.ok)).toEqual([]);
    expect(verification.ok).toBe(true);
    expect(verification.checks.some((c) => c.kind === "checkpoint" && c.ok)).toBe(true);
    await expect(verifyRun(vex, "no-such-run")).rejects.toMatchObject({ code: "NOT_FOUND" });
    await vex.close();
  });
});
