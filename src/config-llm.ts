/**
 * Several OpenAI-compatible providers and routes by role and call kind (VEX_LLM_PROVIDERS,
 * VEX_MODEL_ROUTES), parsed with the environment they refer to: a provider's key is read from the
 * variable its `apiKeyEnv` names, so a missing key stops the start with that variable's name.
 */
import { z } from "zod";
import {
  DEFAULT_PROVIDER,
  type ModelRoutes,
  type ModelTarget,
  parseRouteTarget,
  routeKeyProblem,
} from "./adapters/llm-router/routes.js";
import type { AttributionField } from "./adapters/openai/attempt.js";
import { TOKEN_LIMIT_FIELDS, type TokenLimitField } from "./adapters/openai/model-params.js";
import {
  DEFAULT_STRUCTURED_OUTPUT,
  STRUCTURED_OUTPUT_MODES,
  type StructuredOutputMode,
} from "./adapters/openai/structured-output.js";

/** One provider's connection and limits; each has its own retries, caps and timeouts. */
export interface ProviderConfig {
  readonly baseUrl: string | undefined;
  readonly apiKey: string;
  /** The variable the key came from (OPENAI_API_KEY for the default); none: a placeholder key. */
  readonly apiKeyEnv: string | undefined;
  readonly timeoutMs: number;
  readonly attemptTimeoutMs: number;
  readonly maxRetries: number;
  readonly maxConcurrency: number;
  readonly maxConcurrencyPerTenant: number;
  /** Body field of the completion budget; undefined: by the model's profile. */
  readonly tokenLimitField: TokenLimitField | undefined;
  /** How JSON answers (verdicts, reflections) are asked for. */
  readonly structuredOutput: StructuredOutputMode;
  /** Body field of the tenant attribution (with VEX_LLM_ATTRIBUTION_SALT): the hosted API's or `user`. */
  readonly attributionField: AttributionField;
}

/**
 * Settings a named provider inherits from the default one unless it sets them: our own policies.
 * What its server accepts (token-limit field, structured output) is its own.
 */
export type InheritedSettings = Omit<
  ProviderConfig,
  "baseUrl" | "apiKey" | "apiKeyEnv" | "tokenLimitField" | "structuredOutput" | "attributionField"
>;

const providerSchema = z.strictObject({
  baseURL: z.url().optional(),
  apiKeyEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name")
    .optional(),
  maxRetries: z.number().int().min(0).max(10).optional(),
  maxConcurrency: z.number().int().positive().optional(),
  maxConcurrencyPerTenant: z.number().int().positive().optional(),
  timeoutMs: z.number().int().positive().optional(),
  attemptTimeoutMs: z.number().int().positive().optional(),
  tokenLimitField: z.enum(TOKEN_LIMIT_FIELDS).optional(),
  structuredOutput: z.enum(STRUCTURED_OUTPUT_MODES).optional(),
});

const jsonText = (example: string) =>
  z.string().transform((v, ctx) => {
    try {
      return JSON.parse(v) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: `must be a JSON object such as ${example}` });
      return z.NEVER;
    }
  });

/** The raw variables, parsed as part of the environment schema. */
export const llmRoutingEnv = {
  VEX_LLM_PROVIDERS: jsonText('{"judge":{"baseURL":"https://…/v1","apiKeyEnv":"JUDGE_API_KEY"}}')
    .pipe(
      z.record(
        z.string().regex(/^[A-Za-z0-9_-]+$/, "provider names: letters, digits, '_', '-'"),
        providerSchema,
      ),
    )
    .optional(),
  VEX_MODEL_ROUTES: jsonText('{"CHALLENGE":"judge:gpt-4.1"}')
    .pipe(z.record(z.string(), z.string().min(1)))
    .optional(),
  VEX_LLM_STRUCTURED_OUTPUT: z.enum(STRUCTURED_OUTPUT_MODES).optional(),
};

export interface LlmRouting {
  readonly providers: Readonly<Record<string, ProviderConfig>>;
  readonly routes: ModelRoutes;
}

/**
 * Named providers (each setting it leaves out is the default provider's) and the validated routes.
 * Returns the problems, each naming its variable, instead when anything is wrong.
 */
export const resolveLlmRouting = (input: {
  readonly providers: z.infer<NonNullable<typeof llmRoutingEnv.VEX_LLM_PROVIDERS>> | undefined;
  readonly routes: Readonly<Record<string, string>> | undefined;
  readonly inherited: InheritedSettings;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly tokenLimitFieldFor: (baseUrl: string | undefined) => TokenLimitField | undefined;
  readonly attributionFieldFor: (baseUrl: string | undefined) => AttributionField;
  readonly placeholderKey: string;
}): LlmRouting | { readonly problems: readonly string[] } => {
  const problems: string[] = [];
  const providers: Record<string, ProviderConfig> = {};
  for (const [name, p] of Object.entries(input.providers ?? {})) {
    if (name === DEFAULT_PROVIDER) {
      problems.push(
        `VEX_LLM_PROVIDERS: '${DEFAULT_PROVIDER}' is the provider of OPENAI_BASE_URL and OPENAI_API_KEY; name this one differently`,
      );
      continue;
    }
    const key = p.apiKeyEnv === undefined ? input.placeholderKey : input.env[p.apiKeyEnv];
    if (key === undefined || key === "") {
      problems.push(
        `${p.apiKeyEnv}: unset, but VEX_LLM_PROVIDERS.${name}.apiKeyEnv names it as the key of '${name}'`,
      );
      continue;
    }
    const timeoutMs = p.timeoutMs ?? input.inherited.timeoutMs;
    const attemptTimeoutMs = p.attemptTimeoutMs ?? Math.min(input.inherited.attemptTimeoutMs, timeoutMs);
    if (attemptTimeoutMs > timeoutMs)
      problems.push(
        `VEX_LLM_PROVIDERS.${name}.attemptTimeoutMs: must not exceed its timeoutMs (${timeoutMs})`,
      );
    providers[name] = {
      baseUrl: p.baseURL,
      apiKey: key,
      apiKeyEnv: p.apiKeyEnv,
      timeoutMs,
      attemptTimeoutMs,
      maxRetries: p.maxRetries ?? input.inherited.maxRetries,
      maxConcurrency: p.maxConcurrency ?? input.inherited.maxConcurrency,
      maxConcurrencyPerTenant: p.maxConcurrencyPerTenant ?? input.inherited.maxConcurrencyPerTenant,
      tokenLimitField: p.tokenLimitField ?? input.tokenLimitFieldFor(p.baseURL),
      structuredOutput: p.structuredOutput ?? DEFAULT_STRUCTURED_OUTPUT,
      attributionField: input.attributionFieldFor(p.baseURL),
    };
  }
  const names = [DEFAULT_PROVIDER, ...Object.keys(input.providers ?? {})];
  const routes: Record<string, ModelTarget> = {};
  for (const [key, value] of Object.entries(input.routes ?? {})) {
    const keyProblem = routeKeyProblem(key);
    if (keyProblem !== undefined) {
      problems.push(`VEX_MODEL_ROUTES: ${keyProblem}`);
      continue;
    }
    const target = parseRouteTarget(value, names);
    if ("problem" in target) problems.push(`VEX_MODEL_ROUTES.${key}: ${target.problem}`);
    else routes[key] = target;
  }
  return problems.length > 0 ? { problems } : { providers, routes };
};
