import { describe, expect, it } from "vitest";
import { CONFIG_DEFAULTS, ConfigError, loadConfig } from "../../src/config.js";

describe("loadConfig", () => {
  it("defaults to the embedded store and the offline LLM on loopback:4000", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      host: "127.0.0.1",
      port: 4000,
      store: { kind: "embedded", dataDir: "./data" },
      llm: { kind: "offline", baseMaxTokens: CONFIG_DEFAULTS.llmBaseMaxTokens },
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it("selects MongoDB and the OpenAI-compatible client from their variables", () => {
    const c = loadConfig({
      MONGODB_URI: "mongodb://db:27017/vex",
      OPENAI_BASE_URL: "http://127.0.0.1:11434/v1",
    });
    expect(c.store).toEqual({ kind: "mongo", uri: "mongodb://db:27017/vex", timeoutMs: 5_000 });
    expect(c.llm).toMatchObject({
      kind: "openai",
      baseUrl: "http://127.0.0.1:11434/v1",
      model: "gpt-4o-mini",
    });
  });

  it("reads the role and the worker's settings; api and worker need REDIS_URL", () => {
    expect(loadConfig({})).toMatchObject({
      role: "all",
      worker: {
        redisPrefix: "vex",
        concurrency: 10,
        lockMs: CONFIG_DEFAULTS.workerLockMs,
        stalledIntervalMs: CONFIG_DEFAULTS.workerStalledIntervalMs,
        maxWorkersLost: CONFIG_DEFAULTS.runMaxWorkersLost,
      },
    });
    const worker = loadConfig({
      VEX_ROLE: "worker",
      REDIS_URL: "redis://127.0.0.1:6379",
      VEX_WORKER_CONCURRENCY: "3",
      VEX_WORKER_LOCK_MS: "2000",
      VEX_WORKER_STALLED_INTERVAL_MS: "1000",
      VEX_RUN_MAX_WORKERS_LOST: "0",
    });
    expect(worker).toMatchObject({
      role: "worker",
      worker: { concurrency: 3, lockMs: 2_000, stalledIntervalMs: 1_000, maxWorkersLost: 0 },
    });
    for (const role of ["api", "worker"]) {
      expect(() => loadConfig({ VEX_ROLE: role })).toThrow(ConfigError);
      expect(() => loadConfig({ VEX_ROLE: role })).toThrow(/VEX_ROLE: the .* role needs REDIS_URL/);
    }
    expect(() => loadConfig({ VEX_ROLE: "both" })).toThrow(/VEX_ROLE/);
    expect(() => loadConfig({ VEX_WORKER_CONCURRENCY: "0" })).toThrow(/VEX_WORKER_CONCURRENCY/);
  });

  it("anchors in MongoDB by default when MONGODB_URI is set, in the file otherwise", () => {
    expect(loadConfig({}).provenance.anchors).toEqual(["file"]);
    expect(loadConfig({ MONGODB_URI: "mongodb://db/vex" }).provenance.anchors).toEqual(["mongo"]);
    expect(loadConfig({ MONGODB_URI: "mongodb://db/vex", VEX_ANCHORS: "file" }).provenance.anchors).toEqual([
      "file",
    ]);
  });

  it("treats empty variables as unset", () => {
    expect(loadConfig({ MONGODB_URI: "", PORT: "" }).store.kind).toBe("embedded");
  });

  it("names every invalid variable", () => {
    const attempt = () => loadConfig({ PORT: "http", MONGODB_URI: "postgres://x", VEX_LLM_TIMEOUT_MS: "-5" });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/PORT/);
    expect(attempt).toThrow(/MONGODB_URI: must start with mongodb:\/\//);
    expect(attempt).toThrow(/VEX_LLM_TIMEOUT_MS/);
  });
});
