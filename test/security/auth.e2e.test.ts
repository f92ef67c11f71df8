import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { print } from "graphql";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import {
  OrchestrationEventsDocument,
  OrchestrationsDocument,
  StartOrchestrationDocument,
} from "../../client/generated/graphql.js";
import { ScriptedLlm } from "../fakes/scripted-llm.js";
import { execute, request } from "../support/graphql.js";
import { bearer, createTestKey } from "../support/keys.js";
import { PROCESS_TEST_TIMEOUT_MS } from "../support/processes.js";
import { openRaw, type RawSocket, subscribe } from "../support/raw-ws.js";
import { makeDataDir, removeDir, startTestServer, type TestServer } from "../support/server.js";

const EVENTS = print(OrchestrationEventsDocument);
const CLI = resolve(import.meta.dirname, "../../dist/src/cli/vex.js");
const vex = (dataDir: string, ...args: string[]) =>
  promisify(execFile)(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? "", VEX_DATA_DIR: dataDir },
  });

/** Opens a raw graphql-transport-ws socket, sends connection_init, resolves with the close code. */
const closeCodeOf = (wsUrl: string, payload: Record<string, unknown>) =>
  new Promise<number>((done) => {
    const socket = new WebSocket(wsUrl, "graphql-transport-ws");
    socket.on("open", () => socket.send(JSON.stringify({ type: "connection_init", payload })));
    socket.on("close", (code) => done(code));
  });

describe("development default", () => {
  it("acts as tenant default on loopback while no key exists", async () => {
    const server = await startTestServer();
    try {
      const result = await execute(server.url, OrchestrationsDocument, { first: 1 });
      expect(result.errors).toBeUndefined();
    } finally {
      await server.stop();
      await removeDir(server.dataDir);
    }
  });

  it("refuses to start on a non-loopback host without keys unless auth is disabled", async () => {
    await expect(startTestServer({ env: { HOST: "0.0.0.0" } })).rejects.toThrow(
      /HOST=0\.0\.0\.0.*VEX_AUTH=disabled/s,
    );
    const open = await startTestServer({ env: { HOST: "0.0.0.0", VEX_AUTH: "disabled" } });
    await open.stop();
    await removeDir(open.dataDir);
  });
});

describe("API keys", { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  let server: TestServer;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await makeDataDir();
    server = await startTestServer({ dataDir });
  });
  afterAll(async () => {
    await server.stop();
    await removeDir(dataDir);
  });

  it("are created with the CLI, printed once, stored only as a hash, and then required", async () => {
    const created = await vex(dataDir, "keys", "create", "--tenant", "acme", "--label", "ci");
    const key = created.stdout.trim().split("\n").at(-1) ?? "";
    expect(key).toMatch(/^vex_[A-Za-z0-9_-]{43}$/);
    const listed = await vex(dataDir, "keys", "list");
    expect(listed.stdout).toMatch(/key_\w+\tacme\tactive/);
    expect(listed.stdout).not.toContain(key);

    const anonymous = await execute(server.url, OrchestrationsDocument, { first: 1 });
    expect(anonymous.status).toBe(401);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const wrong = await execute(
      server.url,
      OrchestrationsDocument,
      { first: 1 },
      bearer(`${key.slice(0, -1)}${key.endsWith("A") ? "B" : "A"}`),
    );
    expect(wrong.status).toBe(401);
    const ok = await execute(server.url, OrchestrationsDocument, { first: 1 }, bearer(key));
    expect(ok.errors).toBeUndefined();
    expect(await closeCodeOf(server.wsUrl, {})).toBe(4403);
    expect(await closeCodeOf(server.wsUrl, { authorization: "Bearer nope" })).toBe(4403);
  });
});

describe("revocation of a key with open sockets", () => {
  const RECHECK_MS = 1_000;
  let server: TestServer;
  let dataDir: string;
  const llm = new ScriptedLlm((req) => (req.tag.kind === "ANSWER" ? { hang: true } : "x"));

  beforeAll(async () => {
    // Only the interval timers are fake: the server's key re-check ticks exactly when the test
    // advances them, so the test counts ticks instead of measuring time. Sockets, I/O and timeouts
    // stay real.
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    dataDir = await makeDataDir();
    server = await startTestServer({ dataDir, llm, env: { VEX_KEY_RECHECK_MS: String(RECHECK_MS) } });
  });
  afterAll(async () => {
    vi.useRealTimers();
    await server.stop();
    await removeDir(dataDir);
  });

  /** A graphql-ws ping answered with a pong: the socket is open and served. */
  const served = async (socket: RawSocket) => {
    const pongs = socket.frames.filter((f) => f.type === "pong").length;
    socket.send({ type: "ping" });
    await socket.waitFor(
      (f) => f.type === "pong" && socket.frames.filter((g) => g.type === "pong").length > pongs,
    );
  };

  it("refuses the key at once over HTTP, and closes its acknowledged socket with 4403 at the next re-check tick", async () => {
    const { key, id } = await createTestKey(dataDir, "acme");
    const { startOrchestration: run } = await request(
      server.url,
      StartOrchestrationDocument,
      { input: { query: "q" } },
      bearer(key),
    );
    // Acknowledged with the key, and an operation admitted and streaming, before the revocation.
    const socket = await openRaw(server.wsUrl, { init: { authorization: `Bearer ${key}` } });
    try {
      socket.send(subscribe("e", EVENTS, { orchestrationId: run.id, afterSeq: 0 }));
      await socket.waitFor((f) => f.type === "next" && f.id === "e");

      await vex(dataDir, "keys", "revoke", id);
      const after = await execute(server.url, OrchestrationsDocument, { first: 1 }, bearer(key));
      expect(after.status).toBe(401);
      expect(after.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");

      // Until the re-check ticks, the socket is still open: the close comes from the re-check.
      await served(socket);
      vi.advanceTimersByTime(RECHECK_MS - 1);
      await served(socket);
      // One tick later, i.e. within VEX_KEY_RECHECK_MS of the revocation: closed with 4403.
      vi.advanceTimersByTime(1);
      expect(await socket.closed).toMatchObject({ code: 4403, reason: expect.stringMatching(/revoked/) });
      expect(socket.frames.some((f) => f.type === "complete")).toBe(false);
    } finally {
      socket.socket.terminate();
    }
  });
});
