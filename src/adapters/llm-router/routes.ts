/**
 * Model routes: which provider and model serve a call, by the calling agent's role and the call's
 * kind (VEX_MODEL_ROUTES). Keys are `ROLE.KIND`, `KIND` or `ROLE`; values `provider:model` or a
 * model of the default provider.
 */
import { AGENT_ROLES, type AgentRole } from "../../domain/run.js";
import { LLM_CALL_KINDS, type LlmCallKind } from "../../ports/llm.js";

/** Name of the provider OPENAI_BASE_URL / OPENAI_API_KEY configure. */
export const DEFAULT_PROVIDER = "default";

/** Where calls go: a configured provider and a model it serves. */
export interface ModelTarget {
  readonly provider: string;
  readonly model: string;
}

/** Routes by key (`ROLE.KIND`, `KIND` or `ROLE`), already validated. */
export type ModelRoutes = Readonly<Record<string, ModelTarget>>;

const isRole = (s: string): s is AgentRole => (AGENT_ROLES as readonly string[]).includes(s);
const isKind = (s: string): s is LlmCallKind => (LLM_CALL_KINDS as readonly string[]).includes(s);

/** Why a route key is not one, or undefined when it is. */
export const routeKeyProblem = (key: string): string | undefined => {
  const [first, second, ...rest] = key.split(".");
  if (rest.length > 0 || first === undefined) return `'${key}' is not ROLE, KIND or ROLE.KIND`;
  if (second === undefined)
    return isRole(first) || isKind(first)
      ? undefined
      : `'${key}' is neither a role (${AGENT_ROLES.join(", ")}) nor a call kind (${LLM_CALL_KINDS.join(", ")})`;
  if (!isRole(first)) return `'${key}': '${first}' is not a role (${AGENT_ROLES.join(", ")})`;
  if (!isKind(second)) return `'${key}': '${second}' is not a call kind (${LLM_CALL_KINDS.join(", ")})`;
  return undefined;
};

/**
 * Parses a route value: `provider:model` when the part before the first ':' names a provider,
 * else an error (a model whose own name has a colon is written `default:llama3.1:8b`). A value
 * without a colon is a model of the default provider.
 */
export const parseRouteTarget = (
  value: string,
  providers: readonly string[],
): ModelTarget | { readonly problem: string } => {
  const at = value.indexOf(":");
  if (at < 0) return value === "" ? { problem: "empty model" } : { provider: DEFAULT_PROVIDER, model: value };
  const provider = value.slice(0, at);
  const model = value.slice(at + 1);
  if (!providers.includes(provider))
    return {
      problem: `'${value}': unknown provider '${provider}' (configured: ${providers.join(", ")}; a model whose name has a colon is written ${DEFAULT_PROVIDER}:${value})`,
    };
  if (model === "") return { problem: `'${value}': no model after the provider` };
  return { provider, model };
};

/**
 * The target of a call: the most specific route wins, `ROLE.KIND` before `KIND` before `ROLE`
 * (a kind names the job, e.g. judging a claim, which matters more than who asks), else `fallback`.
 */
export const resolveRoute = (
  routes: ModelRoutes,
  role: AgentRole,
  kind: LlmCallKind,
  fallback: ModelTarget,
): ModelTarget => routes[`${role}.${kind}`] ?? routes[kind] ?? routes[role] ?? fallback;

/** `provider:model`, as Agent.models lists it. */
export const targetKey = (t: ModelTarget): string => `${t.provider}:${t.model}`;
