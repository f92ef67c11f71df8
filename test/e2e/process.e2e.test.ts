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
import { PROCESS_TEST_TIMEOUT_MS, type ServerProcess, spawnServer } from "../support/processes.js";
import { makeDataDir, removeDir, startTestServer } from "../support/server.js";

const servers: ServerProcess[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.kill();
});

describe("the server process", { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it("serves, then exits 0 on SIGTERM", async () => {
    const dataDir = await makeDataDir();
    try {
      const s = await spawnServer({ VEX_DATA_DIR: dataDir });
      servers.push(s);
      const { url } = s;
      const started = await request(url, StartOrchestrationDocument, { input: { query: "hello" } });
      expect(started.startOrchestration.id).toBeTruthy();
      expect(await s.stop()).toBe(0);
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
    // The process exits before it listens; the rejection carries its exit code and output.
    await expect(spawnServer({ PORT: "not-a-port" })).rejects.toThrow(/^exited 1: [\s\S]*PORT/);
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
