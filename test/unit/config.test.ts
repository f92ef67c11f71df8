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

  it("reads VEX_TENANT_TOKENS_PER_DAY: unset or empty is no quota, a positive integer is the quota, else refused", () => {
    expect(loadConfig({}).tenantTokensPerDay).toBeUndefined();
    expect(loadConfig({ VEX_TENANT_TOKENS_PER_DAY: "" }).tenantTokensPerDay).toBeUndefined();
    expect(loadConfig({ VEX_TENANT_TOKENS_PER_DAY: "250000" }).tenantTokensPerDay).toBe(250_000);
    for (const bad of ["0", "-1", "1.5", "lots"]) {
      expect(() => loadConfig({ VEX_TENANT_TOKENS_PER_DAY: bad })).toThrow(/VEX_TENANT_TOKENS_PER_DAY/);
    }
  });

  it("names every invalid variable", () => {
    const attempt = () => loadConfig({ PORT: "http", MONGODB_URI: "postgres://x", VEX_LLM_TIMEOUT_MS: "-5" });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/PORT/);
    expect(attempt).toThrow(/MONGODB_URI: must start with mongodb:\/\//);
    expect(attempt).toThrow(/VEX_LLM_TIMEOUT_MS/);
  });

  it("passes VEX_SUBSCRIBER_BUFFER to the bus, leaves the bus default when unset, and refuses a non-positive one", () => {
    expect(loadConfig({ VEX_SUBSCRIBER_BUFFER: "64" }).subscriberBuffer).toBe(64);
    expect(loadConfig({}).subscriberBuffer).toBeUndefined();
    expect(() => loadConfig({ VEX_SUBSCRIBER_BUFFER: "0" })).toThrow(/VEX_SUBSCRIBER_BUFFER/);
  });

  describe("LLM settings", () => {
    const openai = (env: Record<string, string>) => {
      const llm = loadConfig({ OPENAI_API_KEY: "sk-x", ...env }).llm;
      if (llm.kind !== "openai") throw new Error("expected the openai client");
      return llm;
    };

    it("defaults: no context headers, no startup check, an attempt timeout below the call's", () => {
      const llm = openai({});
      expect(llm).toMatchObject({
        contextHeaders: false,
        check: false,
        timeoutMs: CONFIG_DEFAULTS.llmTimeoutMs,
        attemptTimeoutMs: CONFIG_DEFAULTS.llmAttemptTimeoutMs,
        reasoningBaseMaxTokens: CONFIG_DEFAULTS.llmReasoningBaseMaxTokens,
        modelProfiles: {},
      });
      expect(llm.attemptTimeoutMs).toBeLessThan(llm.timeoutMs);
      // A call deadline below the default attempt timeout caps it.
      expect(openai({ VEX_LLM_TIMEOUT_MS: "400" }).attemptTimeoutMs).toBe(400);
    });

    it("refuses an attempt timeout longer than the call's, naming the variable", () => {
      expect(() => openai({ VEX_LLM_TIMEOUT_MS: "1000", VEX_LLM_ATTEMPT_TIMEOUT_MS: "2000" })).toThrow(
        /VEX_LLM_ATTEMPT_TIMEOUT_MS: must not exceed VEX_LLM_TIMEOUT_MS/,
      );
    });

    it("sends max_completion_tokens to the hosted API and lets the profile choose elsewhere", () => {
      expect(openai({}).tokenLimitField).toBe("max_completion_tokens");
      expect(openai({ OPENAI_BASE_URL: "https://api.openai.com/v1" }).tokenLimitField).toBe(
        "max_completion_tokens",
      );
      expect(openai({ OPENAI_BASE_URL: "http://127.0.0.1:11434/v1" }).tokenLimitField).toBeUndefined();
      expect(
        openai({ OPENAI_BASE_URL: "http://127.0.0.1:11434/v1", VEX_LLM_TOKEN_LIMIT_FIELD: "max_tokens" })
          .tokenLimitField,
      ).toBe("max_tokens");
    });

    it("reads model profiles from VEX_MODEL_PROFILES, with VEX_MODEL_PROFILE for the configured model", () => {
      const llm = openai({
        VEX_MODEL: "my-o3-proxy",
        VEX_MODEL_PROFILE: "reasoning",
        VEX_MODEL_PROFILES: '{"my-o3-proxy":"classic","gpt-5-chat":"classic"}',
      });
      expect(llm.modelProfiles).toEqual({ "my-o3-proxy": "reasoning", "gpt-5-chat": "classic" });
    });

    it("attributes by a salted hash in the hosted API's safety_identifier, or in `user` elsewhere", () => {
      const salt = "0123456789abcdef";
      expect(openai({}).attribution).toBeUndefined();
      expect(openai({ VEX_LLM_ATTRIBUTION_SALT: salt }).attribution).toEqual({
        field: "safety_identifier",
        salt,
      });
      expect(
        openai({ VEX_LLM_ATTRIBUTION_SALT: salt, OPENAI_BASE_URL: "http://127.0.0.1:8000/v1" }).attribution,
      ).toEqual({ field: "user", salt });
      expect(() => openai({ VEX_LLM_ATTRIBUTION_SALT: "short" })).toThrow(/VEX_LLM_ATTRIBUTION_SALT/);
    });

    it("names VEX_MODEL_PROFILES when it is not a JSON map of profiles", () => {
      expect(() => openai({ VEX_MODEL_PROFILES: "o3=reasoning" })).toThrow(
        /VEX_MODEL_PROFILES: must be a JSON object/,
      );
      expect(() => openai({ VEX_MODEL_PROFILES: '{"o3":"fast"}' })).toThrow(/VEX_MODEL_PROFILES/);
      expect(() => openai({ VEX_MODEL_PROFILE: "fast" })).toThrow(/VEX_MODEL_PROFILE/);
    });
  });
});
