import { OpenAI } from "openai";
import { createLlmRouter } from "../../src/adapters/llm-router/llm-router.js";
import { createOfflineLlm } from "../../src/adapters/offline-llm/offline-llm.js";
import { createOpenAiLlmClient } from "../../src/adapters/openai/openai-llm-client.js";
import type { FakeHostedOptions } from "../fakes/fake-openai-hosted.js";
import { startFakeOpenAi } from "../fakes/fake-openai-server.js";
import { llmClientContract } from "./llm-client.contract.js";

llmClientContract({
  name: "offline",
  create: async () => ({ llm: createOfflineLlm(), destroy: async () => {} }),
});

/** The OpenAI adapter over the real SDK against the fake server, in each mode it runs in. */
const openAi = (name: string, model: string, stream: boolean, hosted: FakeHostedOptions = {}) =>
  llmClientContract({
    name,
    create: async () => {
      const fake = await startFakeOpenAi({ hosted });
      const client = new OpenAI({ apiKey: "sk-test", baseURL: fake.url, maxRetries: 0, logLevel: "off" });
      // The fake scripts replies by the call tag, which these headers carry.
      const llm = createOpenAiLlmClient({ client, model, stream, contextHeaders: true });
      return { llm, destroy: () => fake.close() };
    },
  });

openAi("openai (classic model, JSON responses)", "fake-model", false);
openAi("openai (classic model, streamed)", "fake-model", true);
openAi("openai (hosted reasoning model, streamed)", "gpt-5-mini", true, { reasoning: true });

llmClientContract({
  name: "router (the shadow's calls on a second provider)",
  create: async () => {
    const main = await startFakeOpenAi();
    const judge = await startFakeOpenAi({ hosted: { reasoning: true } });
    const sdk = (url: string) =>
      new OpenAI({ apiKey: "sk-test", baseURL: url, maxRetries: 0, logLevel: "off" });
    const llm = createLlmRouter({
      fallback: { provider: "default", model: "fake-model" },
      routes: {
        CHALLENGE: { provider: "judge", model: "gpt-5-mini" },
        REPAIR: { provider: "judge", model: "gpt-5-mini" },
      },
      clientFor: ({ provider, model }) =>
        createOpenAiLlmClient({
          client: sdk(provider === "judge" ? judge.url : main.url),
          provider,
          model,
          stream: true,
          contextHeaders: true,
        }),
    });
    return {
      llm,
      destroy: async () => {
        await main.close();
        await judge.close();
      },
    };
  },
});
