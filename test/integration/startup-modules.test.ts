import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeDataDir, removeDir } from "../support/data-dirs.js";
import { PROCESS_TEST_TIMEOUT_MS, spawnServer } from "../support/processes.js";
import { connectRedis, redisUrl } from "../support/redis.js";

/**
 * A server loads the libraries of the backends its configuration uses, and only those: the
 * embedded default starts without the MongoDB driver, Redis, BullMQ, the OpenAI SDK or the
 * OpenTelemetry SDK (a quarter of its start went to loading them). Each case starts the built
 * server as a process of its own, recording the modules it resolves through Node's module hooks.
 */

const REGISTER = pathToFileURL(resolve(import.meta.dirname, "../support/module-log/register.mjs")).href;
/** Packages only some configurations need. */
const OPTIONAL = [
  "mongodb",
  "ioredis",
  "bullmq",
  "openai",
  "@opentelemetry/sdk-trace",
  "@opentelemetry/exporter-trace-otlp-proto",
] as const;

// Fails the file (never skips) when Redis is missing.
(await connectRedis()).disconnect();

let dir: string;
beforeAll(async () => {
  dir = await makeDataDir();
});
afterAll(() => removeDir(dir));

/** The optional packages a server started with `env` has loaded once it is ready. */
const optionalLoaded = async (env: Record<string, string>): Promise<string[]> => {
  const log = join(dir, `modules-${randomUUID()}.log`);
  const server = await spawnServer({
    VEX_DATA_DIR: join(dir, randomUUID()),
    NODE_OPTIONS: `--import=${REGISTER}`,
    VEX_TEST_MODULE_LOG: log,
    ...env,
  });
  try {
    expect((await fetch(`${server.base}/readyz`)).status).toBe(200);
  } finally {
    await server.stop();
  }
  const urls = (await readFile(log, "utf8")).split("\n");
  return OPTIONAL.filter((name) => urls.some((u) => u.includes(`/node_modules/${name}/`)));
};

describe("the libraries a server loads", () => {
  it(
    "are those of the configured backends: none of the optional ones for the embedded default",
    async () => {
      expect(await optionalLoaded({})).toStrictEqual([]);
      expect(
        await optionalLoaded({ OPENAI_BASE_URL: "http://127.0.0.1:9/v1", OPENAI_API_KEY: "sk-test" }),
      ).toStrictEqual(["openai"]);
      expect(
        await optionalLoaded({ REDIS_URL: redisUrl(), VEX_REDIS_PREFIX: `vex-test-${randomUUID()}` }),
      ).toStrictEqual(["ioredis", "bullmq"]);
      expect(await optionalLoaded({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9" })).toStrictEqual([
        "@opentelemetry/sdk-trace",
        "@opentelemetry/exporter-trace-otlp-proto",
      ]);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
