import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import {
  type EventFieldsFragment,
  OrchestrationDocument,
  StartOrchestrationDocument,
} from "../../client/generated/graphql.js";
import { EMBEDDED_DB_FILE } from "../../src/adapters/embedded/sqlite.js";
import { ScriptedLlm } from "../fakes/scripted-llm.js";
import { request, runEvents } from "../support/graphql.js";
import { killOnExit, PROCESS_TEST_TIMEOUT_MS, SERVER_MAIN } from "../support/processes.js";
import { makeDataDir, removeDir, startTestServer } from "../support/server.js";

/** Starts the built server as its own process and resolves with its URL once it listens. */
const spawnServer = (env: Record<string, string>) => {
  const child = spawn(process.execPath, [SERVER_MAIN], {
    env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  killOnExit(child);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const listening = new Promise<string>((ok, fail) => {
    child.stdout.on("data", () => {
      const m = /"url":"([^"]+)"/.exec(stdout);
      if (m?.[1]) ok(m[1]);
    });
    child.once("exit", (code) => fail(new Error(`exited ${code}: ${stderr}`)));
  });
  // A process that is expected to exit early never listens; its rejection is not an error then.
  listening.catch(() => undefined);
  return { child, listening, output: () => ({ stdout, stderr }) };
};

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
});

describe("the server process", { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it("serves, then exits 0 on SIGTERM", async () => {
    const dataDir = await makeDataDir();
    try {
      const s = spawnServer({ VEX_DATA_DIR: dataDir });
      children.push(s.child);
      const url = await s.listening;
      const started = await request(url, StartOrchestrationDocument, { input: { query: "hello" } });
      expect(started.startOrchestration.id).toBeTruthy();
      s.child.kill("SIGTERM");
      const [code] = await once(s.child, "exit");
      expect(code).toBe(0);
      await expect(fetch(url)).rejects.toThrow();
      // Closed to the end: the write-ahead log is folded into the database file and removed.
      expect(existsSync(join(dataDir, `${EMBEDDED_DB_FILE}-wal`))).toBe(false);
      const db = new Database(join(dataDir, EMBEDDED_DB_FILE), { readonly: true });
      try {
        expect(db.prepare("SELECT id FROM runs").all()).toEqual([{ id: started.startOrchestration.id }]);
      } finally {
        db.close();
      }
    } finally {
      await removeDir(dataDir);
    }
  });

  it("refuses to start on invalid configuration, naming the variable", async () => {
    const s = spawnServer({ PORT: "not-a-port" });
    children.push(s.child);
    const [code] = await once(s.child, "exit");
    expect(code).toBe(1);
    expect(s.output().stderr).toMatch(/PORT/);
  });
});

describe("graceful shutdown", { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it("hands a run still in flight back, and the next start resumes it by itself", async () => {
    const dataDir = await makeDataDir();
    try {
      const llm = new ScriptedLlm((req) => (req.tag.kind === "ANSWER" ? { hang: true } : "unused"));
      const server = await startTestServer({ dataDir, llm, env: { VEX_SHUTDOWN_TIMEOUT_MS: "50" } });
      const { startOrchestration: run } = await request(server.url, StartOrchestrationDocument, {
        input: { query: "q" },
      });
      await server.stop();
      const again = await startTestServer({ dataDir });
      try {
        const events = await runEvents(again.wsUrl, { orchestrationId: run.id });
        const log = events.map((r) => r.data?.orchestrationEvents as EventFieldsFragment);
        expect(log.map((e) => e.seq)).toEqual(log.map((_, i) => i + 1));
        expect(log.filter((e) => e.__typename === "RunFinished")).toHaveLength(1);
        expect(log.find((e) => e.__typename === "RunResumed")).toMatchObject({ reason: "SERVER_RESTART" });
        const { orchestration } = await request(again.url, OrchestrationDocument, { id: run.id });
        expect(orchestration).toMatchObject({ status: "SUCCEEDED", provenanceStatus: "RECORDED" });
        expect(orchestration?.agents.every((a) => a.state === "COMPLETED")).toBe(true);
      } finally {
        await again.stop();
      }
    } finally {
      await removeDir(dataDir);
    }
  });
});
