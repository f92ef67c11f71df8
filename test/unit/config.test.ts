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

  it("passes VEX_SUBSCRIBER_BUFFER to the bus, leaves the bus default when unset, and refuses a non-positive one", () => {
    expect(loadConfig({ VEX_SUBSCRIBER_BUFFER: "64" }).subscriberBuffer).toBe(64);
    expect(loadConfig({}).subscriberBuffer).toBeUndefined();
    expect(() => loadConfig({ VEX_SUBSCRIBER_BUFFER: "0" })).toThrow(/VEX_SUBSCRIBER_BUFFER/);
  });
});
