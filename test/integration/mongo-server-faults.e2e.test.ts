import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { afterAll, describe, expect, it } from "vitest";
import {
  OrchestrationDocument,
  OrchestrationEventLogDocument,
  StartOrchestrationDocument,
} from "../../client/generated/graphql.js";
import { API_KEY_RANDOM_BYTES, formatApiKey } from "../../src/domain/api-key.js";
import type { LlmClient } from "../../src/ports/llm.js";
import { defaultScript, ScriptedLlm } from "../fakes/scripted-llm.js";
import { execute, request } from "../support/graphql.js";
import { bearer } from "../support/keys.js";
import { sample, scrape, waitForSample } from "../support/metrics.js";
import { startFerretDb } from "../support/mongo.js";
import { killOnExit, SERVER_MAIN } from "../support/processes.js";
import { removeDir, startTestServer } from "../support/server.js";
import { waitFor as waitUntil } from "../support/wait.js";

// A FerretDB of our own, even when MONGODB_URI is set: this test stops and restarts it.
const ferret = await startFerretDb();
afterAll(() => ferret.stop());

/** A key of the right shape that no store holds. */
const aWellFormedKey = () => formatApiKey(randomBytes(API_KEY_RANDOM_BYTES));

const waitFor = (check: () => Promise<boolean>) =>
  waitUntil(check, { timeoutMs: 20_000, intervalMs: 50, retryErrors: true });

describe("MongoDB faults through the server", () => {
  it("refuses to start when MongoDB is unreachable, naming MONGODB_URI", async () => {
    const child = spawn(process.execPath, [SERVER_MAIN], {
      env: {
        PATH: process.env.PATH ?? "",
        PORT: "0",
        MONGODB_URI: "mongodb://127.0.0.1:9/vex",
        VEX_MONGO_TIMEOUT_MS: "300",
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    killOnExit(child);
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const [code] = await once(child, "exit");
    expect(code).toBe(1);
    expect(stderr).toMatch(/Cannot reach MongoDB at MONGODB_URI \(mongodb:\/\/127\.0\.0\.1:9\/vex\)/);
  });

  it("fails the run in flight clearly, keeps answering, and recovers when MongoDB is back", {
    timeout: 90_000,
  }, async () => {
    // The critic's answer is held until MongoDB is down; the test knows when it has been given.
    let releaseCritic!: () => void;
    const criticGate = new Promise<void>((r) => {
      releaseCritic = r;
    });
    const scripted = new ScriptedLlm((req, turn) =>
      req.tag.role === "CRITIC" && req.tag.kind === "ANSWER" ? "late answer" : defaultScript(req, turn),
    );
    const llm: LlmClient = {
      model: scripted.model,
      complete: async (req, options) => {
        if (req.tag.role === "CRITIC" && req.tag.kind === "ANSWER") await criticGate;
        return scripted.complete(req, options);
      },
    };
    const server = await startTestServer({
      llm,
      env: { MONGODB_URI: `${ferret.uri}vex_faults_e2e`, VEX_MONGO_TIMEOUT_MS: "500", LOG_LEVEL: "silent" },
    });
    try {
      const { startOrchestration: run } = await request(server.url, StartOrchestrationDocument, {
        input: { query: "q" },
      });
      await waitFor(async () => {
        const { orchestration } = await request(server.url, OrchestrationDocument, { id: run.id });
        return orchestration?.agents.find((a) => a.role === "RESEARCHER")?.state === "COMPLETED";
      });

      await ferret.halt();
      const during = await execute(server.url, OrchestrationDocument, { id: run.id });
      expect(during.errors?.[0]?.extensions?.code).toBe("STORE_UNAVAILABLE");
      expect(during.errors?.[0]?.message).toMatch(/MongoDB is unavailable/);
      // The key check itself needs the store: HTTP 503, not 401 or 500, with or without a key.
      expect(during.status).toBe(503);
      const keyed = await execute(
        server.url,
        OrchestrationDocument,
        { id: run.id },
        bearer(aWellFormedKey()),
      );
      expect(keyed.status).toBe(503);
      expect(keyed.errors?.[0]?.extensions?.code).toBe("STORE_UNAVAILABLE");
      expect((await fetch(server.url.replace("/graphql", "/readyz"))).status).toBe(503);
      expect((await fetch(server.url.replace("/graphql", "/healthz"))).status).toBe(200);
      // The critic's answer arrives while MongoDB is down: the run cannot store it and fails. Its end
      // is first attempted (settling its agents) while MongoDB is still down.
      const endAttempts =
        'vex_store_operation_duration_seconds_count{operation="agents.listByRun",outcome="STORE_UNAVAILABLE"}';
      const before = sample(await scrape(server.url), endAttempts) || 0;
      releaseCritic();
      await waitForSample(server.url, endAttempts, (n) => n > before);

      await ferret.restart();
      await waitFor(async () => (await fetch(server.url.replace("/graphql", "/readyz"))).status === 200);
      await waitFor(async () => {
        const { orchestration } = await request(server.url, OrchestrationDocument, { id: run.id });
        return orchestration?.status === "FAILED";
      });
      const { orchestration } = await request(server.url, OrchestrationDocument, { id: run.id });
      expect(orchestration?.error).toMatchObject({ code: "STORE_UNAVAILABLE" });
      expect(orchestration?.agents.map((a) => [a.role, a.state])).toEqual([
        ["ROOT", "FAILED"],
        ["RESEARCHER", "COMPLETED"],
        ["CRITIC", "FAILED"],
      ]);
      expect(orchestration?.agents.find((a) => a.role === "RESEARCHER")?.result?.response).toBeTruthy();
      // The run's status is stored just before its RunFinished event is appended.
      await waitFor(async () => {
        const log = await request(server.url, OrchestrationEventLogDocument, { id: run.id });
        return log.orchestration?.events.at(-1)?.__typename === "RunFinished";
      });
      const log = await request(server.url, OrchestrationEventLogDocument, { id: run.id });
      expect(log.orchestration?.events.at(-1)).toMatchObject({ __typename: "RunFinished", status: "FAILED" });

      // The same server, without a restart, serves new runs again.
      const { startOrchestration: next } = await request(server.url, StartOrchestrationDocument, {
        input: { query: "again" },
      });
      await waitFor(
        async () =>
          (await request(server.url, OrchestrationDocument, { id: next.id })).orchestration?.status ===
          "SUCCEEDED",
      );
    } finally {
      await server.stop();
      await removeDir(server.dataDir);
    }
  });
});
