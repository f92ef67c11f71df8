import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createVexClient, type Run, type RunDetail, type RunEvent } from "../../client/index.js";
import { ScriptedLlm } from "../fakes/scripted-llm.js";
import { createTestKey } from "../support/keys.js";
import { removeDir, startTestServer, type TestServer } from "../support/server.js";

// The built CLI (`npm run build` compiles src, scripts and client into dist/) as a child process.
const CLI = resolve(import.meta.dirname, "../../dist/src/cli/vex.js");

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}
const vex = (args: string[], env: Record<string, string> = {}) =>
  new Promise<Result>((done) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { PATH: process.env.PATH ?? "", ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });

const closedPort = () =>
  new Promise<number>((ok, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => ok(port));
    });
  });

type Line =
  | { type: "started"; run: Run }
  | { type: "event"; event: RunEvent }
  | { type: "result"; run: RunDetail };

const noStackTrace = (text: string) => expect(text).not.toMatch(/^\s+at .+\(.+:\d+:\d+\)$/m);

describe("vex CLI against a live server", { timeout: 60_000 }, () => {
  let server: TestServer;
  let key: string;
  beforeAll(async () => {
    server = await startTestServer();
    key = (await createTestKey(server.dataDir, "acme")).key;
  });
  afterAll(async () => {
    await server.stop();
    await removeDir(server.dataDir);
  });

  it("vex run --json streams every event and ends with the stored result", async () => {
    const r = await vex(
      [
        "run",
        "Why is the sky blue?",
        "--depth",
        "2",
        "--agents",
        "2",
        "--rounds",
        "2",
        "--json",
        "--url",
        server.url,
      ],
      { VEX_API_KEY: key },
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Line);
    const first = lines[0];
    const last = lines.at(-1);
    if (first?.type !== "started" || last?.type !== "result") throw new Error(r.stdout);
    expect(first.run.config).toMatchObject({ maxDepth: 2, agentsPerLevel: 2, maxDebateRounds: 2 });
    const events = lines.flatMap((l) => (l.type === "event" ? [l.event] : []));
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.at(-1)).toMatchObject({ __typename: "RunFinished", status: "SUCCEEDED" });
    expect(last.run).toMatchObject({ id: first.run.id, status: "SUCCEEDED" });
    expect(last.run.merkleRoot).toMatch(/^[0-9a-f]{64}$/);

    // What the CLI printed is what the server stored.
    const sdk = createVexClient({ webSocketImpl: WebSocket, url: server.url, apiKey: key });
    expect(await sdk.eventLog(first.run.id)).toEqual(events);
    expect(await sdk.orchestration(first.run.id)).toEqual(last.run);
  });

  it("vex run without a terminal prints one line per agent change, the answer and the merkle root", async () => {
    const r = await vex(["run", "plain output please", "--url", server.url, "--key", key]);
    expect(r.code).toBe(0);
    const run = (
      await createVexClient({ webSocketImpl: WebSocket, url: server.url, apiKey: key }).orchestrations({
        first: 1,
      })
    ).edges[0]?.node;
    expect(r.stdout).toContain(`Started run ${run?.id}`);
    for (const role of ["ROOT", "RESEARCHER", "CRITIC"])
      expect(r.stdout).toMatch(new RegExp(`${role} +COMPLETED`));
    expect(r.stdout).toMatch(/RESEARCHER +DEBATING +round 1/);
    expect(r.stdout).toContain("Status       SUCCEEDED");
    expect(r.stdout).toContain(`Merkle root  ${run?.merkleRoot}`);
    expect(r.stdout).toContain(run?.response ?? "no response");
    expect(r.stdout).not.toContain("\x1b["); // no cursor movement when not a terminal
  });

  it("vex runs and vex show read runs back", async () => {
    const sdk = createVexClient({ webSocketImpl: WebSocket, url: server.url, apiKey: key });
    const newest = (await sdk.orchestrations({ first: 1 })).edges[0]?.node;
    const env = { VEX_URL: server.url, VEX_API_KEY: key };
    const runs = await vex(["runs", "--first", "1"], env);
    expect(runs.code).toBe(0);
    expect(runs.stdout).toContain(newest?.id);
    expect(runs.stdout).toMatch(/More: vex runs --after \S+/);
    const runsJson = JSON.parse((await vex(["runs", "--json", "--first", "2"], env)).stdout);
    expect(runsJson.edges).toHaveLength(2);

    const show = await vex(["show", newest?.id ?? ""], env);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`Merkle root  ${newest?.merkleRoot}`);
    expect(show.stdout).toMatch(/Agents \(3\)/);
    const shown = JSON.parse((await vex(["show", newest?.id ?? "", "--json"], env)).stdout) as RunDetail;
    expect(shown).toEqual(await sdk.orchestration(newest?.id ?? ""));

    const missing = await vex(["show", "no-such-run"], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/vex: .*no-such-run.*NOT_FOUND/);
  });

  it("vex verify recomputes a finished run's proofs offline", async () => {
    const sdk = createVexClient({ webSocketImpl: WebSocket, url: server.url, apiKey: key });
    const run = await sdk.startOrchestration({ query: "prove it" });
    for await (const _ of sdk.watch(run.id)) {
      // to RunFinished
    }
    const env = { VEX_URL: server.url, VEX_API_KEY: key };
    const r = await vex(["verify", run.id], env);
    expect(r.stdout).toMatch(/all \d+ checks passed/);
    expect(r.code).toBe(0);
    const missing = await vex(["verify", "no-such-run"], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/No run with id no-such-run/);
  });

  it("a wrong key: a clear message and exit code 4, no stack trace", async () => {
    const r = await vex(["runs", "--url", server.url, "--key", `vex_${"B".repeat(43)}`]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/^vex: the server refused the API key: Unknown or revoked API key\./);
    noStackTrace(r.stderr);
    const none = await vex(["run", "q", "--url", server.url]);
    expect(none.code).toBe(4);
    expect(none.stderr).toMatch(/An API key is required.*Pass --key or set VEX_API_KEY/);
  });

  it("invalid input: the server's message and exit code 2", async () => {
    const r = await vex(["run", "q", "--depth", "9", "--url", server.url, "--key", key]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^vex: invalid input: .*maxDepth/);
    const usage = await vex(["run", "q", "--evolution", "sideways"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--evolution must be one of OFF, GENETIC, SELF_CORRECTING/);
  });
});

describe("vex CLI on a run that does not finish by itself", () => {
  const llm = new ScriptedLlm((req) => (req.tag.kind === "ANSWER" ? { hang: true } : "unused"));
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ llm, env: { VEX_SHUTDOWN_TIMEOUT_MS: "50" } });
  });
  afterAll(async () => {
    await server.stop();
    await removeDir(server.dataDir);
  });

  it("Ctrl-C stops watching (exit 130, the run goes on) and vex cancel ends the run", async () => {
    const sdk = createVexClient({ webSocketImpl: WebSocket, url: server.url });
    const run = await sdk.startOrchestration({ query: "never ends" });
    const child = spawn(process.execPath, [CLI, "watch", run.id, "--url", server.url], {
      env: { PATH: process.env.PATH ?? "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = once(child, "exit");
    await new Promise<void>((ok) =>
      child.stdout.on("data", (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes("Critic")) ok();
      }),
    );
    child.kill("SIGINT");
    const [code] = await exited;
    expect(code).toBe(130);
    expect(stderr).toContain(`Stopped watching. Run ${run.id} continues on the server`);
    expect((await sdk.orchestration(run.id))?.status).toBe("RUNNING");

    const cancel = await vex(["cancel", run.id, "--url", server.url]);
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toContain(`Run ${run.id} is CANCELLED.`);
    const watched = await vex(["watch", run.id, "--url", server.url]);
    expect(watched.code).toBe(1);
    expect(watched.stdout).toContain("Status       CANCELLED");
  });
});

describe("vex CLI without a server", () => {
  it("says the server is unreachable and exits 3, no stack trace", async () => {
    const url = `http://127.0.0.1:${await closedPort()}/graphql`;
    for (const args of [["runs"], ["run", "hello"], ["show", "x"], ["verify", "x"]]) {
      const r = await vex([...args, "--url", url]);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(
        new RegExp(
          `^vex: cannot reach the VEX server at ${url.replaceAll(".", "\\.")}: .*ECONNREFUSED.*Is it running\\?`,
        ),
      );
      noStackTrace(r.stderr);
    }
  });

  it("uses VEX_URL, then the default URL", async () => {
    const url = `http://127.0.0.1:${await closedPort()}/graphql`;
    expect((await vex(["runs"], { VEX_URL: url })).stderr).toContain(url);
  });

  it("prints usage for no or unknown commands", async () => {
    const none = await vex([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toMatch(/vex keys create[\s\S]*vex run "question"/);
    const unknown = await vex(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown command "frobnicate"');
    expect((await vex(["--help"])).code).toBe(0);
  });
});
