import type { LlmClient, LlmRoute } from "../../ports/llm.js";

/** What a decorator of the LLM port forwards unchanged: model, profile, parameters and routes. */
export const passThrough = (llm: LlmClient): Omit<LlmClient, "complete"> => ({
  model: llm.model,
  ...(llm.profile === undefined ? {} : { profile: llm.profile }),
  ...(llm.effectiveParams === undefined
    ? {}
    : { effectiveParams: (params) => llm.effectiveParams?.(params) ?? params }),
  ...(llm.routeFor === undefined ? {} : { routeFor: (role, kind) => llm.routeFor?.(role, kind) as LlmRoute }),
});
