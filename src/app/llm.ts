import type OpenAI from "openai";
import type { Logger } from "pino";
import { createLlmRouter, type LlmRouter, type LlmTarget } from "../adapters/llm-router/llm-router.js";
import { DEFAULT_PROVIDER } from "../adapters/llm-router/routes.js";
import type { Metrics } from "../adapters/metrics/metrics.js";
import { createOfflineLlm } from "../adapters/offline-llm/offline-llm.js";
import type { ParamChange } from "../adapters/openai/model-params.js";
import type { Config } from "../config.js";
import type { ProviderConfig } from "../config-llm.js";
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

/**
 * The LLM the config selects: the offline provider, or OpenAI-compatible servers routed by role and
 * kind (the SDK and its adapter are loaded only then).
 */
export const openLlm = async (
  config: Config,
  hooks: { onParamChange?: OnParamChange } = {},
): Promise<LlmClient | LlmRouter> => {
  switch (config.llm.kind) {
    case "offline":
      return createOfflineLlm();
    case "openai": {
      const llm = config.llm;
      const [{ default: OpenAI }, { createConcurrencySlots, createOpenAiLlmClient }] = await Promise.all([
        import("openai"),
        import("../adapters/openai/openai-llm-client.js"),
      ]);
      /**
       * The SDK client of one provider. The adapter retries itself (honouring its own deadline and
       * the run's abort signal), so the SDK must not; its console logger would bypass ours.
       */
      const sdkFor = (p: ProviderConfig): OpenAI =>
        new OpenAI({
          apiKey: p.apiKey,
          baseURL: p.baseUrl,
          maxRetries: 0,
          timeout: p.timeoutMs,
          logLevel: "off",
        });
      const providers: Record<string, ProviderConfig> = {
        ...llm.providers,
        [DEFAULT_PROVIDER]: {
          baseUrl: llm.baseUrl,
          apiKey: llm.apiKey,
          apiKeyEnv: "OPENAI_API_KEY",
          timeoutMs: llm.timeoutMs,
          attemptTimeoutMs: llm.attemptTimeoutMs,
          maxRetries: llm.maxRetries,
          maxConcurrency: llm.maxConcurrency,
          maxConcurrencyPerTenant: llm.maxConcurrencyPerTenant,
          tokenLimitField: llm.tokenLimitField,
          structuredOutput: llm.structuredOutput,
          attributionField: llm.attribution?.field ?? "user",
        },
      };
      // One SDK client and one set of request slots per provider, shared by the models it serves.
      const connections = new Map(
        Object.entries(providers).map(([name, p]) => [
          name,
          { sdk: sdkFor(p), slots: createConcurrencySlots(p) },
        ]),
      );
      return createLlmRouter({
        fallback: { provider: DEFAULT_PROVIDER, model: llm.model },
        routes: llm.routes,
        clientFor: ({ provider, model }) => {
          const p = providers[provider] as ProviderConfig;
          const connection = connections.get(provider) as NonNullable<ReturnType<typeof connections.get>>;
          const profile = llm.modelProfiles[model];
          return createOpenAiLlmClient({
            client: connection.sdk,
            slots: connection.slots,
            provider,
            model,
            ...(profile === undefined ? {} : { profile }),
            ...(p.tokenLimitField === undefined ? {} : { tokenLimitField: p.tokenLimitField }),
            structuredOutput: p.structuredOutput,
            contextHeaders: llm.contextHeaders,
            ...(llm.attribution
              ? { attribution: { field: p.attributionField, salt: llm.attribution.salt } }
              : {}),
            timeoutMs: p.timeoutMs,
            attemptTimeoutMs: p.attemptTimeoutMs,
            retry: { maxRetries: p.maxRetries },
            stream: llm.stream,
            ...(hooks.onParamChange ? { onParamChange: hooks.onParamChange } : {}),
          });
        },
      });
    }
  }
};

/** Completion budget of the startup check: enough for "OK", small enough to cost nothing. */
export const LLM_CHECK_MAX_TOKENS = 16;
/** Tenant the startup check's request is attributed to (no tenant's own). */
const CHECK_TENANT = "_startup-check";

/**
 * VEX_LLM_CHECK: one tiny request per provider and model calls are routed to, so a wrong key, base
 * URL or model stops the start with a message naming what to set instead of failing every run
 * later. `targets`: the router's (each checked through its own client); without them, `llm` is.
 * Throws StartupError.
 */
export const checkLlm = async (
  llm: LlmClient,
  config: Config,
  targets?: readonly LlmTarget[],
): Promise<void> => {
  if (config.llm.kind !== "openai" || !config.llm.check) return;
  const llmConfig = config.llm;
  const checks =
    targets === undefined ? [{ provider: DEFAULT_PROVIDER, model: llmConfig.model, client: llm }] : targets;
  for (const { provider, model, client } of checks) {
    try {
      await client.complete({
        system: PROMPTS.llmCheck,
        messages: [{ role: "user", content: PROMPTS.llmCheck }],
        params: { maxTokens: LLM_CHECK_MAX_TOKENS },
        tag: { tenantId: CHECK_TENANT, runId: "", agentId: "", role: "ROOT", kind: "CHECK", round: 0 },
      });
    } catch (e) {
      const named = llmConfig.providers[provider];
      const baseUrl = named ? named.baseUrl : llmConfig.baseUrl;
      const where = `${baseUrl ?? "the hosted OpenAI API"}${named ? ` (provider '${provider}', key from ${named.apiKeyEnv ?? "no variable"})` : ""}`;
      const reason = isAppError(e) ? `${e.code}: ${e.message}` : String(e);
      throw new StartupError(
        `VEX_LLM_CHECK: the test request for model '${model}' at ${where} failed. ${reason}`,
        {
          cause: e,
        },
      );
    }
  }
};

/** The router's targets, when `llm` is the router openLlm built. */
export const routedTargets = (llm: LlmClient | LlmRouter): readonly LlmTarget[] | undefined =>
  "targets" in llm ? llm.targets : undefined;
