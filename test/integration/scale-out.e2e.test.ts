import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  type EventFieldsFragment,
  OrchestrationDocument,
  StartOrchestrationDocument,
} from "../../client/generated/graphql.js";
import { startFakeOpenAi } from "../fakes/fake-openai-server.js";
import { defaultScript, ScriptedLlm } from "../fakes/scripted-llm.js";
import { request, runEvents } from "../support/graphql.js";
import { startMongo } from "../support/mongo.js";
import { connectRedis, redisUrl } from "../support/redis.js";
import { makeDataDir, removeDir, startTestServer } from "../support/server.js";
import { waitFor as waitUntil } from "../support/wait.js";

const MAIN = resolve(import.meta.dirname, "../../dist/src/main.js");
const mongo = await startMongo();
// Fails the file (never skips) when Redis is missing.
(await connectRedis()).disconnect();
afterAll(() => mongo.stop());

const mongoEnv = () => ({
  MONGODB_URI: `${mongo.uri.replace(/\/?(\?.*)?$/, "")}/vex_scale_${randomUUID().slice(0, 8)}`,
});

const events = async (wsUrl: string, orchestrationId: string, afterSeq?: number) =>
  (await runEvents(wsUrl, { orchestrationId, afterSeq })).map(
    (r) => r.data?.orchestrationEvents as EventFieldsFragment,
  );

describe("two instances on one MongoDB and one Redis", () => {
  it("delivers a run started on A to subscribers on B, complete and in order, and replays on B", async () => {
    const env = { ...mongoEnv(), REDIS_URL: redisUrl() };
    // A's LLM is slow, so B's subscriber is live (not replaying) while A's agents work.
    const slow = new ScriptedLlm((req, turn) =>
      req.tag.kind === "ANSWER"
        ? { content: `${req.tag.role} answer`, delayMs: 400 }
        : defaultScript(req, turn),
    );
    const a = await startTestServer({ env, llm: slow });
    const b = await startTestServer({ env });
    try {
      const { startOrchestration: run } = await request(a.url, StartOrchestrationDocument, {
        input: { query: "q" },
      });
      const onB = await events(b.wsUrl, run.id);
      expect(onB.map((e) => e.seq)).toEqual(onB.map((_, i) => i + 1));
      expect(onB.at(-1)).toMatchObject({ __typename: "RunFinished", status: "SUCCEEDED" });
      const onA = await events(a.wsUrl, run.id);
      expect(onB).toEqual(onA);
      expect(await events(b.wsUrl, run.id, 3)).toEqual(onA.slice(3));
      const readOnB = await request(b.url, OrchestrationDocument, { id: run.id });
      expect(readOnB.orchestration?.agents).toHaveLength(3);
    } finally {
      await a.stop();
      await b.stop();
      await removeDir(a.dataDir);
      await removeDir(b.dataDir);
    }
  });
});

describe("crash durability", () => {
  it("resumes by itself, at the next start, a run whose process was killed, re-running no finished agent", async () => {
    const hang = { critic: true };
    const fake = await startFakeOpenAi({
      script: (req) =>
        hang.critic && req.tag?.role === "CRITIC" && req.tag.kind === "ANSWER"
          ? { hang: true }
          : {
              content: `${req.tag?.role} ${req.tag?.kind}`.toLowerCase(),
              ...agreeIfChallenge(req.tag?.kind),
            },
    });
    const dataDir = await makeDataDir();
    const env = {
      VEX_DATA_DIR: dataDir,
      OPENAI_BASE_URL: fake.url,
      OPENAI_API_KEY: "sk-test",
    };
    let child: ChildProcess | undefined;
    try {
      child = spawn(process.execPath, [MAIN], {
        env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", PORT: "0", ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
      const url = await new Promise<string>((ok) => {
        child?.stdout?.on("data", () => {
          const m = /"url":"([^"]+)"/.exec(out);
          if (m?.[1]) ok(m[1]);
        });
      });
      const { startOrchestration: run } = await request(url, StartOrchestrationDocument, {
        input: { query: "q" },
      });
      await fake.waitForRequests(1);
      await waitFor(async () => {
        const { orchestration } = await request(url, OrchestrationDocument, { id: run.id });
        return orchestration?.agents.find((x) => x.role === "RESEARCHER")?.state === "COMPLETED";
      });
      child.kill("SIGKILL");
      await once(child, "exit");
      const researcherCalls = fake.requests.filter((r) => r.tag?.role === "RESEARCHER").length;

      hang.critic = false;
      const next = await startTestServer({ dataDir, env });
      try {
        // No resumeOrchestration: the restart queues the unfinished run again.
        const log = await events(next.wsUrl, run.id);
        expect(log.map((e) => e.seq)).toEqual(log.map((_, i) => i + 1));
        expect(log.find((e) => e.__typename === "RunResumed")).toMatchObject({ reason: "SERVER_RESTART" });
        expect(
          log
            .filter((e) => e.__typename === "RunFinished")
            .map((e) => e.__typename === "RunFinished" && e.status),
        ).toEqual(["SUCCEEDED"]);
        const { orchestration: done } = await request(next.url, OrchestrationDocument, { id: run.id });
        expect(done?.agents.every((x) => x.state === "COMPLETED")).toBe(true);
        expect(done?.leafOrder).toHaveLength(3);
        expect(fake.requests.filter((r) => r.tag?.role === "RESEARCHER").length).toBe(researcherCalls);
      } finally {
        await next.stop();
      }
    } finally {
      if (child && child.exitCode === null) child.kill("SIGKILL");
      await fake.close();
      await removeDir(dataDir);
    }
  });
});

const agreeIfChallenge = (kind: string | undefined) =>
  kind === "CHALLENGE" || kind === "REPAIR"
    ? {
        content: JSON.stringify({
          isChallenge: false,
          confidence: 0.9,
          reasoning: "fine",
          suggestedRevision: null,
        }),
      }
    : {};

const waitFor = (check: () => Promise<boolean>) => waitUntil(check, { timeoutMs: 10_000, intervalMs: 50 });
