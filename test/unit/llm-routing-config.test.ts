import { describe, expect, it } from "vitest";
import { resolveRoute } from "../../src/adapters/llm-router/routes.js";
import { ConfigError, loadConfig } from "../../src/config.js";

const OPENAI = { OPENAI_BASE_URL: "http://127.0.0.1:11434/v1", VEX_MODEL: "local-model" };
const JUDGE = { judge: { baseURL: "https://judge.example/v1", apiKeyEnv: "JUDGE_KEY" } };

const openAiLlm = (env: Record<string, string>) => {
  const llm = loadConfig({ ...OPENAI, ...env }).llm;
  if (llm.kind !== "openai") throw new Error("expected the OpenAI-compatible client");
  return llm;
};

describe("VEX_LLM_PROVIDERS and VEX_MODEL_ROUTES", () => {
  it("reads each provider's key from the variable it names, inheriting unset policies from the default", () => {
    const llm = openAiLlm({
      VEX_LLM_MAX_RETRIES: "5",
      JUDGE_KEY: "sk-judge",
      VEX_LLM_PROVIDERS: JSON.stringify({
        judge: { ...JUDGE.judge, maxConcurrency: 2, structuredOutput: "json_schema" },
      }),
      VEX_MODEL_ROUTES: JSON.stringify({ CHALLENGE: "judge:gpt-4.1", "CRITIC.ANSWER": "other-model" }),
    });
    expect(llm.providers.judge).toMatchObject({
      baseUrl: "https://judge.example/v1",
      apiKey: "sk-judge",
      maxRetries: 5,
      maxConcurrency: 2,
      structuredOutput: "json_schema",
      attributionField: "user",
    });
    expect(llm.routes).toEqual({
      CHALLENGE: { provider: "judge", model: "gpt-4.1" },
      "CRITIC.ANSWER": { provider: "default", model: "other-model" },
    });
    expect(llm.structuredOutput).toBe("json_object");
  });

  it("takes the default provider's structured output from VEX_LLM_STRUCTURED_OUTPUT", () => {
    expect(openAiLlm({ VEX_LLM_STRUCTURED_OUTPUT: "json_schema" }).structuredOutput).toBe("json_schema");
    expect(() => openAiLlm({ VEX_LLM_STRUCTURED_OUTPUT: "xml" })).toThrow(/VEX_LLM_STRUCTURED_OUTPUT/);
  });

  it("refuses a provider whose key variable is unset, naming the variable", () => {
    const attempt = () => loadConfig({ ...OPENAI, VEX_LLM_PROVIDERS: JSON.stringify(JUDGE) });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/JUDGE_KEY: unset, but VEX_LLM_PROVIDERS\.judge\.apiKeyEnv names it/);
  });

  it.each([
    ["bad JSON", { VEX_MODEL_ROUTES: "{CHALLENGE:" }, /VEX_MODEL_ROUTES: must be a JSON object/],
    ["an unknown provider", { VEX_MODEL_ROUTES: '{"CHALLENGE":"nope:gpt-4.1"}' }, /unknown provider 'nope'/],
    [
      "an unknown key",
      { VEX_MODEL_ROUTES: '{"JUDGE":"gpt-4.1"}' },
      /VEX_MODEL_ROUTES: 'JUDGE' is neither a role/,
    ],
    ["a bad ROLE.KIND key", { VEX_MODEL_ROUTES: '{"ROOT.VOTE":"gpt-4.1"}' }, /'VOTE' is not a call kind/],
    ["providers as bad JSON", { VEX_LLM_PROVIDERS: "[" }, /VEX_LLM_PROVIDERS: must be a JSON object/],
    ["an unknown provider setting", { VEX_LLM_PROVIDERS: '{"j":{"retries":1}}' }, /VEX_LLM_PROVIDERS/],
    [
      "the reserved name",
      { VEX_LLM_PROVIDERS: '{"default":{}}' },
      /'default' is the provider of OPENAI_BASE_URL/,
    ],
  ])("refuses %s, naming the variable", (_, env, message) => {
    expect(() => loadConfig({ ...OPENAI, ...env })).toThrow(message);
  });

  it("writes a model whose name has a colon with the default provider's name", () => {
    expect(openAiLlm({ VEX_MODEL_ROUTES: '{"REPAIR":"default:llama3.1:8b"}' }).routes.REPAIR).toEqual({
      provider: "default",
      model: "llama3.1:8b",
    });
    expect(() => openAiLlm({ VEX_MODEL_ROUTES: '{"REPAIR":"llama3.1:8b"}' })).toThrow(
      /write default:llama3\.1:8b|written default:llama3\.1:8b/,
    );
  });

  it("refuses routes with the offline provider instead of ignoring them; without routes it stays offline", () => {
    expect(loadConfig({}).llm.kind).toBe("offline");
    expect(() => loadConfig({ VEX_MODEL_ROUTES: '{"CHALLENGE":"gpt-4.1"}' })).toThrow(
      /VEX_MODEL_ROUTES: needs an OpenAI-compatible default provider/,
    );
  });

  it("picks the most specific route: ROLE.KIND, then KIND, then ROLE, then VEX_MODEL", () => {
    const t = (model: string) => ({ provider: "default", model });
    const routes = { "CRITIC.CHALLENGE": t("a"), CHALLENGE: t("b"), CRITIC: t("c") };
    const fallback = t("z");
    expect(resolveRoute(routes, "CRITIC", "CHALLENGE", fallback)).toEqual(t("a"));
    expect(resolveRoute(routes, "ROOT", "CHALLENGE", fallback)).toEqual(t("b"));
    expect(resolveRoute(routes, "CRITIC", "ANSWER", fallback)).toEqual(t("c"));
    expect(resolveRoute(routes, "ROOT", "ANSWER", fallback)).toEqual(fallback);
  });
});
