import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  buildClientSchema,
  buildSchema,
  getIntrospectionQuery,
  type IntrospectionQuery,
  lexicographicSortSchema,
  printSchema,
} from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPackage } from "../../rolldown.config.js";
import { makeDataDir, removeDir } from "../support/data-dirs.js";
import { PROCESS_TEST_TIMEOUT_MS, SERVER_MAIN, spawnServer } from "../support/processes.js";
import { connectRedis, redisUrl } from "../support/redis.js";

/**
 * A server loads the libraries of the backends its configuration uses, and only those: the
 * embedded default starts without the MongoDB driver, Redis, BullMQ, the OpenAI SDK or the
 * OpenTelemetry SDK (a quarter of its start went to loading them). And it is run as a bundle
 * (rolldown.config.ts) that resolves no other package at all. Each case starts the built server as
 * a process of its own, recording the modules it resolves through Node's module hooks.
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

/** The URLs of the modules a server started with `env` has resolved once it is ready. */
const modulesResolved = async (env: Record<string, string>): Promise<string[]> => {
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
  return (await readFile(log, "utf8")).split("\n").filter((url) => url !== "");
};

/** The optional packages a server started with `env` has loaded once it is ready. */
const optionalLoaded = async (env: Record<string, string>): Promise<string[]> => {
  const urls = await modulesResolved(env);
  return OPTIONAL.filter((name) => urls.some((u) => u.includes(`/node_modules/${name}/`)));
};

/** The package a file under node_modules belongs to ("@scope/name" or "name"). */
const packageOf = (path: string): string | undefined => {
  const [first, second] = path.split("/node_modules/").at(-1)?.split("/") ?? [];
  return first?.startsWith("@") ? `${first}/${second}` : first;
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

describe("the bundled server", () => {
  it(
    "resolves only its own files and the packages left out of the bundle",
    async () => {
      const files = (await modulesResolved({}))
        .filter((url) => url.startsWith("file:"))
        .map((url) => fileURLToPath(url));
      const bundle = dirname(SERVER_MAIN);
      const outside = files.filter((file) => !file.startsWith(`${bundle}/`));
      // Everything else the start needs was bundled: no file of dist/src, no other package.
      expect(outside.length).toBeGreaterThan(0);
      for (const file of outside) {
        expect(file).toContain("/node_modules/");
        expect(isPackage(packageOf(file) ?? ""), file).toBe(true);
      }
      expect(files).toContain(SERVER_MAIN);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    "serves the committed schema.graphql",
    async () => {
      const server = await spawnServer({ VEX_DATA_DIR: join(dir, randomUUID()) });
      try {
        const response = await fetch(server.url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            query: getIntrospectionQuery({
              specifiedByUrl: true,
              directiveIsRepeatable: true,
              inputValueDeprecation: true,
            }),
          }),
        });
        const { data, errors } = (await response.json()) as { data: IntrospectionQuery; errors?: unknown };
        expect(errors).toBeUndefined();
        const committed = await readFile(resolve(import.meta.dirname, "../../schema.graphql"), "utf8");
        // Introspection lists types in another order than the file: both are compared sorted.
        const served = lexicographicSortSchema(buildClientSchema(data));
        expect(printSchema(served)).toBe(printSchema(lexicographicSortSchema(buildSchema(committed))));
      } finally {
        await server.stop();
      }
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
