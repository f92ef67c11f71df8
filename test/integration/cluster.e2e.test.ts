import { randomUUID } from "node:crypto";
import { print } from "graphql";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  AgentTokensDocument,
  type AgentTokensSubscription,
  CancelOrchestrationDocument,
  type EventFieldsFragment,
  EvolutionEventsDocument,
  type EvolutionEventsSubscription,
  LedgerConsistencyDocument,
  OrchestrationDocument,
  OrchestrationEventLogDocument,
  OrchestrationsDocument,
  RunProvenanceDocument,
  StartOrchestrationDocument,
} from "../../client/generated/graphql.js";
import { noteVerifierOf, verifyRunProvenance } from "../../client/index.js";
import {
  defaultFakeReply,
  type FakeOpenAi,
  type FakeReply,
  startFakeOpenAi,
} from "../fakes/fake-openai-server.js";
import { execute, request, wsClient } from "../support/graphql.js";
import { startMongo } from "../support/mongo.js";
import { gauge, type ServerProcess, spawnServer } from "../support/processes.js";
import { connectRedis, redisUrl } from "../support/redis.js";
import { waitFor } from "../support/wait.js";

/** Latency of every LLM answer, so that runs are mid-debate when a worker dies. */
const CALL_LATENCY_MS = 150;
const RUNS = 20;

const mongo = await startMongo();
(await connectRedis()).disconnect();

/** Queries whose LLM calls never answer (until the test lets them). */
const hanging = new Set<string>();
/** Queries whose Critic's answer never comes (until the test lets it). */
const hangingCritic = new Set<string>();
let fake: FakeOpenAi;
const processes: ServerProcess[] = [];

/** Redis prefixes of the clusters started, whose keys are deleted at the end. */
const prefixes: string[] = [];

const clusterEnv = () => ({
  MONGODB_URI: `${mongo.uri.replace(/\/?(\?.*)?$/, "")}/vex_cluster_${randomUUID().slice(0, 8)}`,
  REDIS_URL: redisUrl(),
  VEX_REDIS_PREFIX: prefixes[prefixes.push(`vex-test-${randomUUID()}`) - 1] as string,
  OPENAI_BASE_URL: fake.url,
  OPENAI_API_KEY: "sk-test",
  // The fake server tells calls apart by the X-Vex-* headers, which a gateway may opt into too.
  VEX_LLM_CONTEXT_HEADERS: "true",
  VEX_RATE_LIMIT_PER_MINUTE: "1000",
  VEX_MAX_CONCURRENT_RUNS_PER_TENANT: "100",
  // The stalled check a production deployment tunes too: a lost worker is noticed within seconds.
  VEX_WORKER_LOCK_MS: "2000",
  VEX_WORKER_STALLED_INTERVAL_MS: "1000",
  VEX_SHUTDOWN_TIMEOUT_MS: "2000",
});

const start = async (
  env: Record<string, string>,
  role: "api" | "worker",
  extra: Record<string, string> = {},
) => {
  const p = await spawnServer({ ...env, VEX_ROLE: role, ...extra });
  processes.push(p);
  return p;
};

beforeAll(async () => {
  fake = await startFakeOpenAi({
    script: (req): FakeReply => {
      const query = JSON.stringify(req.body?.messages ?? []);
      if ([...hanging].some((q) => query.includes(q))) return { hang: true };
      const critic = req.tag?.role === "CRITIC" && req.tag.kind === "ANSWER";
      if (critic && [...hangingCritic].some((q) => query.includes(q))) return { hang: true };
      return { ...defaultFakeReply(req), latencyMs: CALL_LATENCY_MS } as FakeReply;
    },
  });
});

// Each test's cluster stops with it, so that the next test has the machine to itself.
afterEach(async () => {
  if (process.env.VEX_TEST_DEBUG) for (const p of processes) console.log(p.pid, p.output());
  await Promise.all(processes.splice(0).map((p) => p.kill()));
});

afterAll(async () => {
  const redis = await connectRedis();
  for (const prefix of prefixes) {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  redis.disconnect();
  await fake.close();
  await mongo.stop();
});

const eventsOf = async (url: string, id: string) =>
  ((await request(url, OrchestrationEventLogDocument, { id })).orchestration?.events ??
    []) as EventFieldsFragment[];

const provenanceThrough = async (url: string, id: string) => {
  const data = await request(url, RunProvenanceDocument, { id });
  const run = data.orchestration;
  if (run === null || run.ledgerProof === null) throw new Error(`run ${id} has no provenance`);
  const anchored = await request(url, LedgerConsistencyDocument, {
    firstSize: run.anchorReceipts[0]?.entry.treeSize ?? 0,
    secondSize: run.ledgerProof.treeSize,
  });
  return { run, key: noteVerifierOf(data.ledgerPublicKey), anchored };
};

describe("one API instance and two workers on one MongoDB and one Redis", () => {
  it("finishes every run after a worker is killed mid-debate, repeating no completed agent's calls", async () => {
    const env = clusterEnv();
    const api = await start(env, "api");
    const apiB = await start(env, "api");
    const w1 = await start(env, "worker");
    const w2 = await start(env, "worker");
    const ids: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      const { startOrchestration } = await request(api.url, StartOrchestrationDocument, {
        input: { query: `cluster question ${i}` },
      });
      expect(startOrchestration.status).toBe("PENDING");
      ids.push(startOrchestration.id);
    }
    // Both workers hold runs, and some agents have finished: the runs are mid-debate.
    await waitFor(async () => (await gauge(w1.base, "vex_runs_active")) > 0, { timeoutMs: 30_000 });
    await waitFor(async () => (await gauge(w2.base, "vex_runs_active")) > 0, { timeoutMs: 30_000 });
    await waitFor(async () => fake.requests.filter((r) => r.tag?.kind === "CHALLENGE").length >= 4, {
      timeoutMs: 30_000,
    });
    expect(await gauge(w1.base, "vex_runs_active")).toBeGreaterThan(0);
    await w1.kill();

    // What had completed when the worker died: those agents' calls must never be made again.
    const completedAtKill = new Map<string, number>();
    for (const id of ids) {
      const { orchestration } = await request(api.url, OrchestrationDocument, { id });
      for (const agent of orchestration?.agents ?? []) {
        if (agent.state !== "COMPLETED") continue;
        completedAtKill.set(agent.id, fake.requests.filter((r) => r.tag?.agentId === agent.id).length);
      }
    }

    // No client call after the kill: the runs end by themselves.
    // One list query per poll: the runs' own reads (with their proofs) come once, after.
    await waitFor(
      async () => {
        const { orchestrations } = await request(api.url, OrchestrationsDocument, {
          first: RUNS,
          status: "SUCCEEDED",
        });
        return orchestrations.edges.length === RUNS;
      },
      { timeoutMs: 120_000, intervalMs: 250 },
    );
    for (const [agentId, calls] of completedAtKill) {
      expect(fake.requests.filter((r) => r.tag?.agentId === agentId).length, agentId).toBe(calls);
    }
    let resumed = 0;
    for (const id of ids) {
      const events = await eventsOf(api.url, id);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      const reasons = events.flatMap((e) => (e.__typename === "RunResumed" ? [e.reason] : []));
      expect(reasons.every((r) => r === "WORKER_LOST")).toBe(true);
      resumed += reasons.length;
      const { orchestration } = await request(api.url, OrchestrationDocument, { id });
      expect(orchestration?.provenanceStatus).toBe("RECORDED");
      expect(orchestration?.leafOrder).toHaveLength(3);
      expect(new Set(orchestration?.leafOrder)).toEqual(new Set(orchestration?.agents.map((a) => a.id)));
      // Every instance verifies the same receipts (the mongo anchor is the default with MongoDB).
      for (const url of [api.url, apiB.url]) {
        const p = await provenanceThrough(url, id);
        expect(p.run.anchorReceipts.map((r) => [r.backend, r.verification.valid])).toEqual([["mongo", true]]);
        expect(verifyRunProvenance(p).filter((c) => !c.ok)).toEqual([]);
      }
    }
    expect(resumed).toBeGreaterThan(0);
    // Stalled and recovered: every resumed run, and any the dead worker had taken but not yet begun.
    const recovered = await gauge(w2.base, "vex_runs_resumed_total");
    expect(recovered).toBeGreaterThanOrEqual(resumed);
    expect(recovered).toBeLessThanOrEqual(RUNS);
    expect(await gauge(w2.base, "vex_run_dispatch_seconds_count")).toBeGreaterThanOrEqual(resumed);
    expect(await gauge(api.base, "vex_run_queue_jobs")).toBe(0);
    // A worker serves health and metrics, and no GraphQL.
    expect((await fetch(`${w2.base}/healthz`)).status).toBe(200);
    expect((await fetch(`${w2.base}/readyz`)).status).toBe(200);
    expect((await fetch(`${w2.base}/graphql`, { method: "POST" })).status).toBe(404);
  }, 300_000);

  it("cancels through a second API instance a run executing on a worker, within 2 s", async () => {
    const env = clusterEnv();
    const a = await start(env, "api");
    const b = await start(env, "api");
    await start(env, "worker");
    const query = `hangs ${randomUUID()}`;
    hanging.add(query);
    const { startOrchestration: run } = await request(a.url, StartOrchestrationDocument, {
      input: { query },
    });
    await waitFor(async () => fake.requests.some((r) => r.tag?.runId === run.id && r.outcome === "open"), {
      timeoutMs: 20_000,
    });
    const began = Date.now();
    const { cancelOrchestration } = await request(b.url, CancelOrchestrationDocument, { id: run.id });
    const tookMs = Date.now() - began;
    expect(cancelOrchestration).toMatchObject({ status: "CANCELLED", error: { code: "CANCELLED" } });
    expect(tookMs).toBeLessThanOrEqual(2_000);
    const calls = fake.requests.filter((r) => r.tag?.runId === run.id);
    await waitFor(async () => calls.every((r) => r.outcome !== "open"));
    expect(calls.map((r) => r.outcome)).toContain("client-closed");
    const events = await eventsOf(a.url, run.id);
    expect(events.at(-1)).toMatchObject({ __typename: "RunFinished", status: "CANCELLED" });
  }, 60_000);

  it("holds the per-tenant cap across API instances and workers", async () => {
    const env = clusterEnv();
    const cap = { VEX_MAX_CONCURRENT_RUNS_PER_TENANT: "2" };
    const a = await start(env, "api", cap);
    const b = await start(env, "api", cap);
    await start(env, "worker");
    await start(env, "worker");
    const attempts = await Promise.all(
      [a, b, a, b, a, b].map((p, i) =>
        execute(p.url, StartOrchestrationDocument, { input: { query: `capped ${i}` } }),
      ),
    );
    const admitted = attempts.flatMap((r) => (r.data ? [r.data.startOrchestration.id] : []));
    const refused = attempts.flatMap((r) => r.errors?.map((e) => e.extensions?.code) ?? []);
    expect(admitted).toHaveLength(2);
    expect(refused).toEqual(Array(4).fill("CONCURRENCY_LIMITED"));
    await waitFor(
      async () => {
        for (const id of admitted) {
          const { orchestration } = await request(a.url, OrchestrationDocument, { id });
          if (orchestration?.status !== "SUCCEEDED") return false;
        }
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    // Once they ended, their slots are free again on every instance.
    const next = await request(b.url, StartOrchestrationDocument, { input: { query: "after the cap" } });
    expect(next.startOrchestration.status).toBe("PENDING");
  }, 90_000);

  it("hands a worker's runs back on SIGTERM; another resumes them, streaming to the API's subscribers", async () => {
    const env = clusterEnv();
    const api = await start(env, "api");
    const w1 = await start(env, "worker", { VEX_SHUTDOWN_TIMEOUT_MS: "100" });
    const query = `handed back ${randomUUID()}`;
    hangingCritic.add(query);
    const { startOrchestration: run } = await request(api.url, StartOrchestrationDocument, {
      input: { query, evolution: "GENETIC" },
    });
    const client = wsClient(api.wsUrl);
    const tokens: AgentTokensSubscription["agentTokens"][] = [];
    const records: EvolutionEventsSubscription["evolutionEvents"][] = [];
    const reading = Promise.all([
      (async () => {
        for await (const r of client.iterate({
          query: print(AgentTokensDocument),
          variables: { orchestrationId: run.id },
        })) {
          tokens.push((r.data as AgentTokensSubscription).agentTokens);
        }
      })(),
      (async () => {
        for await (const r of client.iterate({ query: print(EvolutionEventsDocument) })) {
          const record = (r.data as EvolutionEventsSubscription).evolutionEvents;
          records.push(record);
          if (record.orchestrationId === run.id) return;
        }
      })(),
    ]).catch(() => undefined);
    try {
      // The Researcher finished on w1 and the Critic's call is open: then w1 is told to stop.
      await waitFor(
        async () =>
          fake.requests.some(
            (r) => r.tag?.runId === run.id && r.tag.role === "CRITIC" && r.outcome === "open",
          ) &&
          fake.requests.some(
            (r) =>
              r.tag?.runId === run.id &&
              r.tag.role === "RESEARCHER" &&
              r.tag.kind === "CHALLENGE" &&
              r.outcome === "answered",
          ),
        { timeoutMs: 30_000 },
      );
      const researcherCalls = () =>
        fake.requests.filter((r) => r.tag?.runId === run.id && r.tag.role === "RESEARCHER").length;
      const researcherBefore = researcherCalls();
      expect(await w1.stop()).toBe(0);
      hangingCritic.delete(query);
      await start(env, "worker");
      await waitFor(
        async () =>
          (await request(api.url, OrchestrationDocument, { id: run.id })).orchestration?.status ===
          "SUCCEEDED",
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      const events = await eventsOf(api.url, run.id);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(events.filter((e) => e.__typename === "RunFinished")).toHaveLength(1);
      expect(events.find((e) => e.__typename === "RunResumed")).toMatchObject({ reason: "WORKER_SHUTDOWN" });
      // The Researcher completed on w1: its calls are not made again.
      expect(researcherCalls()).toBe(researcherBefore);
      await waitFor(async () => records.some((r) => r.orchestrationId === run.id), { timeoutMs: 10_000 });
      expect(tokens.length).toBeGreaterThan(0);
      expect(new Set(tokens.map((t) => t.agentId)).size).toBeGreaterThan(1);
    } finally {
      await client.dispose();
      await reading;
    }
  }, 90_000);
});
