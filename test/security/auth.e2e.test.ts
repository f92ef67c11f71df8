import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { print } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { OrchestrationsDocument, StartOrchestrationDocument } from "../../client/generated/graphql.js";
import { ScriptedLlm } from "../fakes/scripted-llm.js";
import { execute, request, wsClient } from "../support/graphql.js";
import { bearer, createTestKey } from "../support/keys.js";
import { makeDataDir, removeDir, startTestServer, type TestServer } from "../support/server.js";

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

describe("API keys", () => {
  let server: TestServer;
  let dataDir: string;
  const llm = new ScriptedLlm((req) => (req.tag.kind === "ANSWER" ? { hang: true } : "x"));

  beforeAll(async () => {
    dataDir = await makeDataDir();
    server = await startTestServer({ dataDir, llm, env: { VEX_KEY_RECHECK_MS: "50" } });
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

  it("stop working at once when revoked, and their open sockets are closed", async () => {
    const { key, id } = await createTestKey(dataDir, "acme");
    const { startOrchestration: run } = await request(
      server.url,
      StartOrchestrationDocument,
      { input: { query: "q" } },
      bearer(key),
    );
    const client = wsClient(server.wsUrl, key);
    const closed = new Promise<number>((done) =>
      client.on("closed", (e) => done((e as { code: number }).code)),
    );
    const events = (async () => {
      for await (const _ of client.iterate({
        query: "subscription($id: ID!) { agentTokens(orchestrationId: $id) { text } }",
        variables: { id: run.id },
      })) {
        // no tokens: the run hangs; the subscription only ends when the socket closes
      }
    })().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));

    await vex(dataDir, "keys", "revoke", id);
    const after = await execute(server.url, OrchestrationsDocument, { first: 1 }, bearer(key));
    expect(after.status).toBe(401);
    expect(await closed).toBe(4403);
    await events;
    await client.dispose();
    expect(print(OrchestrationsDocument)).toContain("orchestrations");
  });
});
