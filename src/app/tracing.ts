import { traceLlm } from "../adapters/telemetry/traced-llm.js";
import type { Tracing } from "../adapters/telemetry/tracing.js";
import type { Config } from "../config.js";
import type { LlmClient } from "../ports/llm.js";

/** gen_ai.provider.name of the configured LLM: "openai" for any OpenAI-compatible server. */
const PROVIDER_NAMES: Record<Config["llm"]["kind"], string> = { openai: "openai", offline: "offline" };

/** The LLM with a `chat` span per call when tracing is on; the LLM itself (no cost) when it is off. */
export const traced = (llm: LlmClient, { tracer, content }: Tracing, config: Config): LlmClient =>
  tracer === undefined ? llm : traceLlm(llm, { tracer, provider: PROVIDER_NAMES[config.llm.kind], content });
