import OpenAI from "openai";
import { createOfflineLlm } from "../adapters/offline-llm/offline-llm.js";
import { createOpenAiLlmClient } from "../adapters/openai/openai-llm-client.js";
import type { Config } from "../config.js";
import type { LlmClient } from "../ports/llm.js";

/** The LLM the config selects: the offline provider, or an OpenAI-compatible server. */
export const openLlm = (config: Config): LlmClient => {
  switch (config.llm.kind) {
    case "offline":
      return createOfflineLlm();
    case "openai":
      return createOpenAiLlmClient({
        // The adapter retries itself (honouring its own deadline and the run's abort signal), so the
        // SDK must not; its console logger would bypass ours.
        client: new OpenAI({
          apiKey: config.llm.apiKey,
          baseURL: config.llm.baseUrl,
          maxRetries: 0,
          timeout: config.llm.timeoutMs,
          logLevel: "off",
        }),
        model: config.llm.model,
        timeoutMs: config.llm.timeoutMs,
        retry: { maxRetries: config.llm.maxRetries },
        maxConcurrency: config.llm.maxConcurrency,
        maxConcurrencyPerTenant: config.llm.maxConcurrencyPerTenant,
        stream: config.llm.stream,
      });
  }
};
