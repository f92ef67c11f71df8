import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { print } from "graphql";
import { afterAll, describe, expect, it } from "vitest";
import {
  AgentTokensDocument,
  type AgentTokensSubscription,
  type EventFieldsFragment,
  EvolutionEventsDocument,
  type EvolutionEventsSubscription,
  OrchestrationDocument,
  OrchestrationEventsDocument,
  StartOrchestrationDocument,
} from "../../client/generated/graphql.js";
import type { LlmClient } from "../../src/ports/llm.js";
import { startFakeOpenAi } from "../fakes/fake-openai-server.js";
import { defaultScript, ScriptedLlm } from "../fakes/scripted-llm.js";
import { createKeyFor, mongoRedisBackend } from "../support/backends.js";
import { collect, request, wsClient } from "../support/graphql.js";
import { bearer } from "../support/keys.js";
import { killOnExit, PROCESS_TEST_TIMEOUT_MS, SERVER_MAIN } from "../support/processes.js";
import { makeDataDir, removeDir, startTestServer } from "../support/server.js";
import { waitFor as waitUntil } from "../support/wait.js";

// MongoDB (a database of its own per test, dropped afterwards) and Redis: fails, never skips.
const backend = await mongoRedisBackend("vex_scale");
afterAll(() => backend.cleanup());

const events = async (wsUrl: string, orchestrationId: string, afterSeq?: number, key?: string) => {
  const client = wsClient(wsUrl, key);
  try {
    return (await collect(client, OrchestrationEventsDocument, { orchestrationId, afterSeq })).map(
      (r) => r.data?.orchestrationEvents as EventFieldsFragment,
    );
  } finally {
    await client.dispose();
  }
};

/** A token sent until someone hears one: tokens are live-only, so a subscriber may miss it. */
const PROBE = "…";
/** How often an ANSWER call repeats its probe token. */
const PROBE_INTERVAL_MS = 10;

/**
 * An LLM whose ANSWER calls repeat a probe token until `heard` is set (by a subscriber that received
 * one), then answer: the answer's tokens are published only once a subscriber is known to be live.
 */
const probingLlm = () => {
  const state = { heard: false };
  const scripted = new ScriptedLlm((req, turn) =>
    req.tag.kind === "ANSWER" ? `${req.tag.role} answer` : defaultScript(req, turn),
  );
  const llm: LlmClient = {
    model: scripted.model,
    complete: async (req, options) => {
      while (req.tag.kind === "ANSWER" && !state.heard && !options?.signal?.aborted) {
        options?.onToken?.(PROBE);
        await new Promise((r) => setTimeout(r, PROBE_INTERVAL_MS));
      }
      return scripted.complete(req, options);
    },
  };
  return { llm, state };
};

/**
 * Two instances on one MongoDB database and one Redis; stopped (and their dirs removed) by the
 * caller. `apiOnly` serves the API without executing runs (VEX_ROLE=api), so every run executes on
 * the other one and whatever `apiOnly` streams of it crossed Redis.
 */
const twoInstances = async (apiOnly: "A" | "B") => {
  const env = await backend.env();
  const probes = { A: probingLlm(), B: probingLlm() };
  const roleOf = (name: "A" | "B"): Record<string, string> => (name === apiOnly ? { VEX_ROLE: "api" } : {});
  const A = await startTestServer({ env: { ...env, ...roleOf("A") }, llm: probes.A.llm });
  const B = await startTestServer({ env: { ...env, ...roleOf("B") }, llm: probes.B.llm });
  return {
    env,
    servers: { A, B },
    probes,
    stop: async () => {
      for (const s of [A, B]) {
        await s.stop();
        await removeDir(s.dataDir);
      }
    },
  };
};

describe("two instances on one MongoDB and one Redis", { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it.each([
    ["A", "B"],
    ["B", "A"],
  ] as const)(
    "streams a run started on %s live to %s: its tokens through Redis, its events complete and in order",
    async (from, to) => {
      const { servers, probes, stop } = await twoInstances(to);
      try {
        const origin = servers[from];
        const other = servers[to];
        const { startOrchestration: run } = await request(origin.url, StartOrchestrationDocument, {
          input: { query: "q" },
        });
        // Tokens are never stored: any token the other instance delivers came through Redis.
        const client = wsClient(other.wsUrl);
        const tokens: AgentTokensSubscription["agentTokens"][] = [];
        try {
          for await (const r of client.iterate({
            query: print(AgentTokensDocument),
            variables: { orchestrationId: run.id },
          })) {
            expect(r.errors).toBeUndefined();
            probes[from].state.heard = true;
            const token = (r.data as AgentTokensSubscription).agentTokens;
            if (token.text !== PROBE) tokens.push(token);
            if (token.kind === "SYNTHESIS") break;
          }
        } finally {
          await client.dispose();
        }
        expect(
          tokens
            .filter((t) => t.kind === "ANSWER")
            .map((t) => t.text)
            .sort(),
        ).toEqual(["CRITIC answer", "RESEARCHER answer"]);
        // The other instance (API only) never called its LLM: the run executed on the origin.
        expect(probes[to].state.heard).toBe(false);

        const onOther = await events(other.wsUrl, run.id);
        expect(onOther.map((e) => e.seq)).toEqual(onOther.map((_, i) => i + 1));
        expect(onOther.at(-1)).toMatchObject({ __typename: "RunFinished", status: "SUCCEEDED" });
        expect(onOther).toEqual(await events(origin.wsUrl, run.id));
        expect(await events(other.wsUrl, run.id, 3)).toEqual(onOther.slice(3));
        const read = await request(other.url, OrchestrationDocument, { id: run.id });
        expect(read.orchestration?.agents).toHaveLength(3);
      } finally {
        await stop();
      }
    },
  );

  it("delivers evolution records of runs on A to evolutionEvents subscribers on B", async () => {
    const { env, servers, probes, stop } = await twoInstances("B");
    probes.A.state.heard = true;
    // A tenant of its own: its evolution channel is this test's alone on a shared Redis.
    const { key } = await createKeyFor(env, servers.A.dataDir, `scale-${randomUUID().slice(0, 8)}`);
    const client = wsClient(servers.B.wsUrl, key);
    try {
      const received: string[] = [];
      const errors: unknown[] = [];
      const reading = (async () => {
        for await (const r of client.iterate({ query: print(EvolutionEventsDocument) })) {
          if (r.errors) errors.push(r.errors);
          else received.push((r.data as EvolutionEventsSubscription).evolutionEvents.orchestrationId);
        }
      })().catch((e: unknown) => errors.push(e));
      const geneticRunOnA = async (seed: number) => {
        const { startOrchestration: run } = await request(
          servers.A.url,
          StartOrchestrationDocument,
          { input: { query: `genetic ${seed}`, evolution: "GENETIC", seed } },
          bearer(key),
        );
        await events(servers.A.wsUrl, run.id, 0, key);
        return run.id;
      };
      // The subscription on B is live once it has received a record; B ran none of these runs.
      const before: string[] = [];
      for (let seed = 1; received.length === 0; seed++) {
        expect(seed, "no evolution record reached B").toBeLessThan(MAX_WARM_UP_RUNS);
        before.push(await geneticRunOnA(seed));
      }
      // From then on, every record of a run on A reaches B, once and in order.
      const after = [await geneticRunOnA(100), await geneticRunOnA(101)];
      await waitFor(async () => received.length >= before.length + after.length, { timeoutMs: 30_000 });
      expect(received.slice(-after.length)).toEqual(after);
      expect(new Set(received).size).toBe(received.length);
      expect(received.every((id) => [...before, ...after].includes(id))).toBe(true);
      await client.dispose();
      await reading;
      expect(errors).toEqual([]);
    } finally {
      await client.dispose();
      await stop();
    }
  });
});

/** Runs after which B's evolution subscription must have received something. */
const MAX_WARM_UP_RUNS = 10;

describe("crash durability", { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
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
      // The fake server hangs the Critic by the X-Vex-* headers, which a gateway may opt into too.
      VEX_LLM_CONTEXT_HEADERS: "true",
    };
    let child: ChildProcess | undefined;
    try {
      child = spawn(process.execPath, [SERVER_MAIN], {
        env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", PORT: "0", ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      killOnExit(child);
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

const waitFor = (check: () => Promise<boolean>, options: { timeoutMs?: number } = {}) =>
  waitUntil(check, { timeoutMs: 10_000, intervalMs: 50, ...options });
