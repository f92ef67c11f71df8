import OpenAI from "openai";
import type { Logger } from "pino";
import type { Metrics } from "../adapters/metrics/metrics.js";
import { createOfflineLlm } from "../adapters/offline-llm/offline-llm.js";
import type { ParamChange } from "../adapters/openai/model-params.js";
import { createOpenAiLlmClient } from "../adapters/openai/openai-llm-client.js";
import type { Config } from "../config.js";
import { isAppError } from "../domain/errors.js";
import { PROMPTS } from "../orchestrator/prompts.js";
import type { LlmClient } from "../ports/llm.js";
import { StartupError } from "./startup-error.js";

/** Told when the model refuses a request parameter (once per parameter and model), for log and metrics. */
export type OnParamChange = (change: ParamChange & { readonly message: string }) => void;

/** Logs each refused parameter once (the adapter reports each change once) and counts it in /metrics. */
export const reportParamChanges =
  (logger: Logger, metrics: Metrics): OnParamChange =>
  ({ message, ...change }) => {
    metrics.llmParamChanges.inc({ model: change.model, parameter: change.param, action: change.action });
    logger.warn(
      { ...change, serverMessage: message },
      "The model refused a request parameter; it is left out (or renamed) for this model from now on. VEX_MODEL_PROFILES (or VEX_MODEL_PROFILE) avoids the refused request.",
    );
  };

/** The LLM the config selects: the offline provider, or an OpenAI-compatible server. */
export const openLlm = (config: Config, hooks: { onParamChange?: OnParamChange } = {}): LlmClient => {
  switch (config.llm.kind) {
    case "offline":
      return createOfflineLlm();
    case "openai": {
      const llm = config.llm;
      return createOpenAiLlmClient({
        // The adapter retries itself (honouring its own deadline and the run's abort signal), so the
        // SDK must not; its console logger would bypass ours.
        client: new OpenAI({
          apiKey: llm.apiKey,
          baseURL: llm.baseUrl,
          maxRetries: 0,
          timeout: llm.timeoutMs,
          logLevel: "off",
        }),
        model: llm.model,
        ...(llm.modelProfiles[llm.model] === undefined ? {} : { profile: llm.modelProfiles[llm.model] }),
        ...(llm.tokenLimitField === undefined ? {} : { tokenLimitField: llm.tokenLimitField }),
        contextHeaders: llm.contextHeaders,
        ...(llm.attribution ? { attribution: llm.attribution } : {}),
        timeoutMs: llm.timeoutMs,
        attemptTimeoutMs: llm.attemptTimeoutMs,
        retry: { maxRetries: llm.maxRetries },
        maxConcurrency: llm.maxConcurrency,
        maxConcurrencyPerTenant: llm.maxConcurrencyPerTenant,
        stream: llm.stream,
        ...(hooks.onParamChange ? { onParamChange: hooks.onParamChange } : {}),
      });
    }
  }
};

/** Completion budget of the startup check: enough for "OK", small enough to cost nothing. */
export const LLM_CHECK_MAX_TOKENS = 16;
/** Tenant the startup check's request is attributed to (no tenant's own). */
const CHECK_TENANT = "_startup-check";

/**
 * VEX_LLM_CHECK: one tiny request, so a wrong key, base URL or model stops the start with a message
 * naming what to set instead of failing every run later. Throws StartupError.
 */
export const checkLlm = async (llm: LlmClient, config: Config): Promise<void> => {
  if (config.llm.kind !== "openai" || !config.llm.check) return;
  try {
    await llm.complete({
      system: PROMPTS.llmCheck,
      messages: [{ role: "user", content: PROMPTS.llmCheck }],
      params: { maxTokens: LLM_CHECK_MAX_TOKENS },
      tag: { tenantId: CHECK_TENANT, runId: "", agentId: "", role: "ROOT", kind: "CHECK", round: 0 },
    });
  } catch (e) {
    const where = config.llm.baseUrl ?? "the hosted OpenAI API";
    const reason = isAppError(e) ? `${e.code}: ${e.message}` : String(e);
    throw new StartupError(
      `VEX_LLM_CHECK: the test request for model '${config.llm.model}' at ${where} failed. ${reason}`,
      { cause: e },
    );
  }
};
