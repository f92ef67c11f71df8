import type { AgentRole } from "../../domain/run.js";
import type { LlmCallKind, LlmClient, LlmRoute } from "../../ports/llm.js";
import { type ModelRoutes, type ModelTarget, resolveRoute, targetKey } from "./routes.js";

export interface LlmRouterOptions {
  /** Where calls no route names go: VEX_MODEL on the default provider. */
  readonly fallback: ModelTarget;
  readonly routes: ModelRoutes;
  /** The client of one provider and model; called once per distinct target, at construction. */
  readonly clientFor: (target: ModelTarget) => LlmClient;
}

/** A routed target with the client that serves it. */
export interface LlmTarget extends ModelTarget {
  readonly client: LlmClient;
}

/** The router: an LlmClient that also lists its distinct targets (for the startup check). */
export interface LlmRouter extends LlmClient {
  readonly targets: readonly LlmTarget[];
}

/**
 * An LlmClient that sends each call to the provider and model its role and kind route to (see
 * resolveRoute), each target through its own client (its provider's retries, caps and timeouts, its
 * model's profile). It reports the fallback's model and profile as its own, and every response
 * names the provider that answered.
 */
export const createLlmRouter = (options: LlmRouterOptions): LlmRouter => {
  const clients = new Map<string, { target: ModelTarget; client: LlmClient }>();
  for (const target of [options.fallback, ...Object.values(options.routes)]) {
    const key = targetKey(target);
    if (!clients.has(key)) clients.set(key, { target, client: options.clientFor(target) });
  }
  const entry = (target: ModelTarget) =>
    clients.get(targetKey(target)) as { target: ModelTarget; client: LlmClient };
  const fallback = entry(options.fallback).client;
  const routeOf = ({ target, client }: { target: ModelTarget; client: LlmClient }): LlmRoute => ({
    provider: target.provider,
    model: target.model,
    profile: client.profile ?? "classic",
    effectiveParams: (params) => client.effectiveParams?.(params) ?? params,
  });
  const pick = (role: AgentRole, kind: LlmCallKind) =>
    entry(resolveRoute(options.routes, role, kind, options.fallback));
  return {
    targets: [...clients.values()].map(({ target, client }) => ({ ...target, client })),
    model: fallback.model,
    ...(fallback.profile === undefined ? {} : { profile: fallback.profile }),
    effectiveParams: (params) => fallback.effectiveParams?.(params) ?? params,
    routeFor: (role, kind) => routeOf(pick(role, kind)),
    async complete(request, callOptions) {
      const { target, client } = pick(request.tag.role, request.tag.kind);
      const response = await client.complete(request, callOptions);
      return { ...response, provider: response.provider ?? target.provider };
    },
  };
};
