import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { StartOrchestrationDocument } from "../../client/generated/graphql.js";
import { startFakeOpenAi } from "../fakes/fake-openai-server.js";
import { startOtlpReceiver } from "../fakes/otlp-receiver.js";
import { request, runEvents } from "../support/graphql.js";
import { startMongo } from "../support/mongo.js";
import { PROCESS_TEST_TIMEOUT_MS, spawnServer } from "../support/processes.js";
import { connectRedis, redisUrl } from "../support/redis.js";

// A run's spans form one trace across processes: the API that queued it and the worker that ran it.

const mongo = await startMongo();
const redisPrefix = `vex-test-${randomUUID()}`;
afterAll(async () => {
  const redis = await connectRedis();
  const keys = await redis.keys(`${redisPrefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await mongo.stop();
});

describe("tracing across an API process and a worker process", { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it("puts the worker's run, agents and LLM calls in the trace of the request that queued the run", async () => {
    const receiver = await startOtlpReceiver();
    const fake = await startFakeOpenAi();
    const env = {
      MONGODB_URI: `${mongo.uri.replace(/\/?(\?.*)?$/, "")}/vex_traces_${randomUUID().slice(0, 8)}`,
      REDIS_URL: redisUrl(),
      VEX_REDIS_PREFIX: redisPrefix,
      OPENAI_BASE_URL: fake.url,
      OPENAI_API_KEY: "sk-test",
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    };
    const api = await spawnServer({ ...env, VEX_ROLE: "api", OTEL_SERVICE_NAME: "vex-api" });
    const worker = await spawnServer({ ...env, VEX_ROLE: "worker", OTEL_SERVICE_NAME: "vex-worker" });
    try {
      const traceId = randomBytes(16).toString("hex");
      const { startOrchestration: run } = await request(
        api.url,
        StartOrchestrationDocument,
        { input: { query: "traced across processes" } },
        { traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-01` },
      );
      await runEvents(api.wsUrl, { orchestrationId: run.id });
    } finally {
      // SIGTERM: each process flushes its spans before it exits.
      expect(await worker.stop()).toBe(0);
      expect(await api.stop()).toBe(0);
      await fake.close();
      await receiver.close();
    }
    const spans = receiver.spans();
    const mutation = spans.find((s) => s.name === "mutation StartOrchestration");
    const workflow = spans.find((s) => s.name === "invoke_workflow");
    expect(mutation?.resource["service.name"]).toBe("vex-api");
    expect(workflow?.resource["service.name"]).toBe("vex-worker");
    expect(workflow?.traceId).toBe(mutation?.traceId);
    expect(workflow?.parentSpanId).toBe(mutation?.spanId);
    const fromWorker = spans.filter((s) => s.resource["service.name"] === "vex-worker");
    expect(fromWorker.filter((s) => s.attributes["gen_ai.operation.name"] === "invoke_agent")).toHaveLength(
      3,
    );
    expect(fromWorker.filter((s) => s.attributes["gen_ai.operation.name"] === "chat").length).toBe(
      fake.requests.length,
    );
    expect(fromWorker.every((s) => s.traceId === mutation?.traceId)).toBe(true);
  });
});
