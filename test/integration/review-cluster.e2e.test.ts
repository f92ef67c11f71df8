import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  OrchestrationDocument,
  PendingReviewsDocument,
  StartOrchestrationDocument,
  SubmitReviewDocument,
} from "../../client/generated/graphql.js";
import { defaultFakeReply, type FakeOpenAi, startFakeOpenAi } from "../fakes/fake-openai-server.js";
import { request } from "../support/graphql.js";
import { startMongo } from "../support/mongo.js";
import { PROCESS_TEST_TIMEOUT_MS, type ServerProcess, spawnServer } from "../support/processes.js";
import { connectRedis, redisUrl } from "../support/redis.js";
import { waitFor } from "../support/wait.js";

/**
 * A run awaiting review on a cluster (one API process, worker processes, MongoDB, Redis/BullMQ): the
 * worker that parked it is SIGKILLed while it waits, and the run still completes on approval.
 */

const mongo = await startMongo();
(await connectRedis()).disconnect();
let fake: FakeOpenAi;
const processes: ServerProcess[] = [];
const prefix = `vex-test-${randomUUID()}`;
const WAIT = { timeoutMs: 90_000, intervalMs: 50 };

beforeAll(async () => {
  fake = await startFakeOpenAi({ script: defaultFakeReply });
});
afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.kill()));
});
afterAll(async () => {
  const redis = await connectRedis();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await fake.close();
  await mongo.stop();
});

const env = () => ({
  MONGODB_URI: `${mongo.uri.replace(/\/?(\?.*)?$/, "")}/vex_review_cluster_${randomUUID().slice(0, 8)}`,
  REDIS_URL: redisUrl(),
  VEX_REDIS_PREFIX: prefix,
  OPENAI_BASE_URL: fake.url,
  OPENAI_API_KEY: "sk-test",
  VEX_LLM_CONTEXT_HEADERS: "true",
  VEX_WORKER_CONCURRENCY: "1",
  VEX_WORKER_LOCK_MS: "2000",
  VEX_WORKER_STALLED_INTERVAL_MS: "1000",
});
const start = async (e: Record<string, string>, role: "api" | "worker") => {
  const p = await spawnServer({ ...e, VEX_ROLE: role });
  processes.push(p);
  return p;
};

describe("review gates on a cluster", { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it("a worker SIGKILLed while its run awaits review loses nothing: approval completes it, no call repeated", async () => {
    const e = env();
    const api = await start(e, "api");
    const worker = await start(e, "worker");
    const { startOrchestration: run } = await request(api.url, StartOrchestrationDocument, {
      input: { query: "cluster review", maxDebateRounds: 1, review: { when: "FINAL" } },
    });
    const status = async () =>
      (await request(api.url, OrchestrationDocument, { id: run.id })).orchestration?.status;
    await waitFor(async () => (await status()) === "AWAITING_REVIEW", WAIT);
    const callsBefore = fake.requests.filter((r) => r.tag?.runId === run.id).length;
    expect(callsBefore).toBeGreaterThan(0);

    await worker.kill();
    await start(e, "worker");
    const pending = (await request(api.url, PendingReviewsDocument, { first: 10 })).pendingReviews.edges;
    const review = pending.find((p) => p.node.orchestrationId === run.id)?.node;
    expect(review?.role).toBe("ROOT");
    await request(api.url, SubmitReviewDocument, {
      input: { orchestrationId: run.id, reviewId: review?.id ?? "", decision: "APPROVE" },
    });
    await waitFor(async () => (await status()) === "SUCCEEDED", WAIT);
    // The root had debated before it waited: completing it needed no further LLM call.
    expect(fake.requests.filter((r) => r.tag?.runId === run.id)).toHaveLength(callsBefore);
    const done = (await request(api.url, OrchestrationDocument, { id: run.id })).orchestration;
    expect(done?.agents.find((a) => a.role === "ROOT")?.result?.debate.votes.at(-1)).toMatchObject({
      voter: "HUMAN",
      decision: "APPROVE",
    });
  });
});
