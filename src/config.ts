import { join } from "node:path";
import type { z } from "zod";
import type { ModelRoutes } from "./adapters/llm-router/routes.js";
import type { AttributionField } from "./adapters/openai/attempt.js";
import type { TokenLimitField } from "./adapters/openai/model-params.js";
import { DEFAULT_STRUCTURED_OUTPUT, type StructuredOutputMode } from "./adapters/openai/structured-output.js";
import {
  type AnchorBackendName,
  CONFIG_DEFAULTS,
  envSchema,
  type LOG_LEVELS,
  type OtlpProtocol,
  type Role,
} from "./config-env.js";
import { type LlmRouting, type ProviderConfig, resolveLlmRouting } from "./config-llm.js";
import type { ModelProfile } from "./domain/genome.js";
import type { Limits } from "./server/limits.js";

export {
  ANCHOR_BACKENDS,
  type AnchorBackendName,
  CONFIG_DEFAULTS,
  OTLP_PROTOCOLS,
  type OtlpProtocol,
  ROLES,
  type Role,
} from "./config-env.js";

export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly store:
    | { readonly kind: "embedded"; readonly dataDir: string }
    | {
        readonly kind: "mongo";
        readonly uri: string;
        /** How long an operation waits for a reachable server before STORE_UNAVAILABLE. */
        readonly timeoutMs: number;
      };
  readonly llm:
    | { readonly kind: "offline"; readonly baseMaxTokens: number; readonly reasoningBaseMaxTokens: number }
    | {
        readonly kind: "openai";
        readonly apiKey: string;
        readonly baseUrl: string | undefined;
        readonly model: string;
        readonly timeoutMs: number;
        /** Deadline of one attempt until the server starts answering; a hung attempt is retried. */
        readonly attemptTimeoutMs: number;
        readonly maxRetries: number;
        readonly maxConcurrency: number;
        readonly maxConcurrencyPerTenant: number;
        readonly baseMaxTokens: number;
        /** Base completion budget on reasoning models (their reasoning tokens count against it). */
        readonly reasoningBaseMaxTokens: number;
        /** Stream completions (SSE) so tokens reach agentTokens subscribers live. */
        readonly stream: boolean;
        /** Configured parameter profiles by model name (VEX_MODEL_PROFILES, with VEX_MODEL_PROFILE for the model). */
        readonly modelProfiles: Readonly<Record<string, ModelProfile>>;
        /** Body field of the completion budget; undefined: by the model's profile. */
        readonly tokenLimitField: TokenLimitField | undefined;
        /** Send tenant, run, agent, role and call kind as X-Vex-* headers. */
        readonly contextHeaders: boolean;
        /** Attribute requests to tenants by a salted hash in the provider's field; unset: not at all. */
        readonly attribution: { readonly field: AttributionField; readonly salt: string } | undefined;
        /** Make one tiny request at startup and refuse to start when it fails. */
        readonly check: boolean;
        /** How the default provider is asked for JSON (VEX_LLM_STRUCTURED_OUTPUT). */
        readonly structuredOutput: StructuredOutputMode;
        /** Named providers besides the default one (VEX_LLM_PROVIDERS). */
        readonly providers: Readonly<Record<string, ProviderConfig>>;
        /** Provider and model by role and call kind (VEX_MODEL_ROUTES); VEX_MODEL on the default otherwise. */
        readonly routes: ModelRoutes;
      };
  /** Redis for the cross-instance event bus; unset: the in-process bus. */
  readonly redisUrl: string | undefined;
  /**
   * Bus messages one subscriber may hold before its oldest are dropped (run-event subscribers read
   * dropped events back from the log); unset: the bus's default (DEFAULT_SUBSCRIBER_BUFFER).
   */
  readonly subscriberBuffer: number | undefined;
  readonly shutdownTimeoutMs: number;
  /** API, worker, or both; api and worker need REDIS_URL (the queue between them). */
  readonly role: Role;
  /** Execution of runs (the worker role). */
  readonly worker: {
    /** Namespace of the queue, run slots and rate counters in Redis. */
    readonly redisPrefix: string;
    /** Runs one worker executes at once. */
    readonly concurrency: number;
    /** The run's lock: a worker that stops renewing it for this long has lost the run. */
    readonly lockMs: number;
    /** How often workers look for runs whose worker was lost. */
    readonly stalledIntervalMs: number;
    /** Times a run may lose its worker and resume before it ends FAILED (WORKER_LOST). */
    readonly maxWorkersLost: number;
  };
  readonly logLevel: LogLevel;
  readonly production: boolean;
  /** Whether requests must carry an API key once keys exist (see the README's security model). */
  readonly authEnabled: boolean;
  readonly introspection: boolean;
  readonly limits: Limits;
  /** Tokens each tenant may use per UTC day across the cluster (VEX_TENANT_TOKENS_PER_DAY); undefined: no quota. */
  readonly tenantTokensPerDay: number | undefined;
  readonly provenance: {
    /** Ledger origins are `<origin>/<tenant>`; also the checkpoint signing key's name. */
    readonly origin: string;
    /** Base64 Ed25519 seed; unset: a key is generated on first start and stored. */
    readonly signingKey: string | undefined;
    /** Where checkpoints are anchored, in order (empty: not anchored). */
    readonly anchors: readonly AnchorBackendName[];
    /** JSONL file of the file anchor. */
    readonly anchorFile: string;
  };
  /** OpenTelemetry traces: off unless an OTLP endpoint is configured. */
  readonly tracing:
    | { readonly kind: "off" }
    | {
        readonly kind: "otlp";
        /** The traces endpoint itself (…/v1/traces). */
        readonly url: string;
        readonly protocol: OtlpProtocol;
        readonly headers: Readonly<Record<string, string>>;
        readonly serviceName: string;
        /** Whether spans carry prompts and answers (VEX_TRACE_CONTENT); off by default. */
        readonly content: boolean;
      };
}

/** Path of the traces signal under OTEL_EXPORTER_OTLP_ENDPOINT (OTLP/HTTP). */
const OTLP_TRACES_PATH = "v1/traces";

/** Raised for invalid configuration; its message names every offending variable. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** Local servers (Ollama, vLLM, LM Studio) accept any key; the client library still wants one. */
const PLACEHOLDER_API_KEY = "not-needed";

/** Host of the hosted OpenAI API. */
const HOSTED_API_HOST = "api.openai.com";

/**
 * The hosted API takes max_completion_tokens for every model, so it is sent there always. Other
 * OpenAI-compatible servers (local ones) often know only max_tokens: undefined leaves the choice to
 * the model's profile (reasoning: max_completion_tokens, classic: max_tokens).
 */
const hostedDefaultTokenField = (baseUrl: string | undefined): TokenLimitField | undefined =>
  isHostedApi(baseUrl) ? "max_completion_tokens" : undefined;

/** No base URL, or one on the hosted API's host. */
const isHostedApi = (baseUrl: string | undefined): boolean =>
  baseUrl === undefined || new URL(baseUrl).hostname === HOSTED_API_HOST;

/** The hosted API's own attribution field; other servers know the older `user`. */
const attributionFieldOf = (baseUrl: string | undefined): AttributionField =>
  isHostedApi(baseUrl) ? "safety_identifier" : "user";

/** Parses the environment once into a frozen Config, or throws ConfigError naming the variables. */
export const loadConfig = (env: Record<string, string | undefined>): Config => {
  // An empty variable means "unset", as in most shells' `VAR= cmd`.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  const useOpenAi = e.OPENAI_API_KEY !== undefined || e.OPENAI_BASE_URL !== undefined;
  const production = e.NODE_ENV === "production";
  if (e.VEX_LLM_ATTEMPT_TIMEOUT_MS !== undefined && e.VEX_LLM_ATTEMPT_TIMEOUT_MS > e.VEX_LLM_TIMEOUT_MS) {
    throw new ConfigError(
      `Invalid configuration:\n  VEX_LLM_ATTEMPT_TIMEOUT_MS: must not exceed VEX_LLM_TIMEOUT_MS (${e.VEX_LLM_TIMEOUT_MS})`,
    );
  }
  const routing = llmRoutingOf(e, env, useOpenAi);
  if (e.VEX_ANCHORS.includes("mongo") && e.MONGODB_URI === undefined) {
    throw new ConfigError("Invalid configuration:\n  VEX_ANCHORS: the mongo anchor needs MONGODB_URI");
  }
  if (e.VEX_ROLE !== "all" && e.REDIS_URL === undefined) {
    throw new ConfigError(
      `Invalid configuration:\n  VEX_ROLE: the ${e.VEX_ROLE} role needs REDIS_URL (the queue between API and workers)`,
    );
  }
  // Unset (not "none"): with MongoDB every instance anchors where every other can verify.
  const anchors =
    env.VEX_ANCHORS === undefined || env.VEX_ANCHORS === ""
      ? [e.MONGODB_URI === undefined ? CONFIG_DEFAULTS.anchorsEmbedded : CONFIG_DEFAULTS.anchorsMongo]
      : e.VEX_ANCHORS;
  return Object.freeze<Config>({
    host: e.HOST,
    port: e.PORT,
    store:
      e.MONGODB_URI !== undefined
        ? { kind: "mongo", uri: e.MONGODB_URI, timeoutMs: e.VEX_MONGO_TIMEOUT_MS }
        : { kind: "embedded", dataDir: e.VEX_DATA_DIR },
    llm: useOpenAi
      ? {
          kind: "openai",
          apiKey: e.OPENAI_API_KEY ?? PLACEHOLDER_API_KEY,
          baseUrl: e.OPENAI_BASE_URL,
          model: e.VEX_MODEL,
          timeoutMs: e.VEX_LLM_TIMEOUT_MS,
          attemptTimeoutMs:
            e.VEX_LLM_ATTEMPT_TIMEOUT_MS ??
            Math.min(CONFIG_DEFAULTS.llmAttemptTimeoutMs, e.VEX_LLM_TIMEOUT_MS),
          maxRetries: e.VEX_LLM_MAX_RETRIES,
          maxConcurrency: e.VEX_LLM_MAX_CONCURRENCY,
          maxConcurrencyPerTenant: e.VEX_LLM_MAX_CONCURRENCY_PER_TENANT,
          baseMaxTokens: e.VEX_LLM_BASE_MAX_TOKENS,
          reasoningBaseMaxTokens: e.VEX_REASONING_BASE_MAX_TOKENS,
          stream: e.VEX_LLM_STREAM === "true",
          modelProfiles: {
            ...e.VEX_MODEL_PROFILES,
            ...(e.VEX_MODEL_PROFILE === undefined ? {} : { [e.VEX_MODEL]: e.VEX_MODEL_PROFILE }),
          },
          tokenLimitField: e.VEX_LLM_TOKEN_LIMIT_FIELD ?? hostedDefaultTokenField(e.OPENAI_BASE_URL),
          contextHeaders: e.VEX_LLM_CONTEXT_HEADERS === "true",
          attribution:
            e.VEX_LLM_ATTRIBUTION_SALT === undefined
              ? undefined
              : {
                  field: attributionFieldOf(e.OPENAI_BASE_URL),
                  salt: e.VEX_LLM_ATTRIBUTION_SALT,
                },
          check: e.VEX_LLM_CHECK === "true",
          structuredOutput: e.VEX_LLM_STRUCTURED_OUTPUT ?? DEFAULT_STRUCTURED_OUTPUT,
          providers: routing.providers,
          routes: routing.routes,
        }
      : {
          kind: "offline",
          baseMaxTokens: e.VEX_LLM_BASE_MAX_TOKENS,
          reasoningBaseMaxTokens: e.VEX_REASONING_BASE_MAX_TOKENS,
        },
    redisUrl: e.REDIS_URL,
    subscriberBuffer: e.VEX_SUBSCRIBER_BUFFER,
    shutdownTimeoutMs: e.VEX_SHUTDOWN_TIMEOUT_MS,
    role: e.VEX_ROLE,
    worker: {
      redisPrefix: e.VEX_REDIS_PREFIX,
      concurrency: e.VEX_WORKER_CONCURRENCY,
      lockMs: e.VEX_WORKER_LOCK_MS,
      stalledIntervalMs: e.VEX_WORKER_STALLED_INTERVAL_MS,
      maxWorkersLost: e.VEX_RUN_MAX_WORKERS_LOST,
    },
    logLevel: e.LOG_LEVEL,
    production,
    authEnabled: e.VEX_AUTH === "enabled",
    introspection: e.VEX_INTROSPECTION === undefined ? !production : e.VEX_INTROSPECTION === "true",
    tenantTokensPerDay: e.VEX_TENANT_TOKENS_PER_DAY,
    limits: {
      rateLimitPerMinute: e.VEX_RATE_LIMIT_PER_MINUTE,
      rateLimitBurst: e.VEX_RATE_LIMIT_BURST,
      maxConcurrentRunsPerTenant: e.VEX_MAX_CONCURRENT_RUNS_PER_TENANT,
      maxDocumentBytes: e.VEX_MAX_DOCUMENT_BYTES,
      maxQueryDepth: e.VEX_MAX_QUERY_DEPTH,
      maxQueryCost: e.VEX_MAX_QUERY_COST,
      maxAliases: e.VEX_MAX_ALIASES,
      maxDirectives: e.VEX_MAX_DIRECTIVES,
      maxTokens: e.VEX_MAX_TOKENS,
      wsMaxPayloadBytes: e.VEX_WS_MAX_PAYLOAD_BYTES,
      wsInitTimeoutMs: e.VEX_WS_INIT_TIMEOUT_MS,
      wsMaxSubscriptions: e.VEX_WS_MAX_SUBSCRIPTIONS,
      wsKeepAliveMs: e.VEX_WS_KEEPALIVE_MS,
      wsMaxBufferedBytes: e.VEX_WS_MAX_BUFFERED_BYTES,
      keyRecheckMs: e.VEX_KEY_RECHECK_MS,
    },
    provenance: {
      origin: e.VEX_LEDGER_ORIGIN,
      signingKey: e.VEX_LEDGER_SIGNING_KEY,
      anchors,
      anchorFile: e.VEX_ANCHOR_FILE ?? join(e.VEX_DATA_DIR, CONFIG_DEFAULTS.anchorFileName),
    },
    tracing: tracingOf(e),
  });
};

/**
 * VEX_LLM_PROVIDERS and VEX_MODEL_ROUTES, read with the variables they name. They extend an
 * OpenAI-compatible default provider; with the offline provider they are refused, not ignored.
 */
const llmRoutingOf = (
  e: z.infer<typeof envSchema>,
  env: Record<string, string | undefined>,
  useOpenAi: boolean,
): LlmRouting => {
  if (!useOpenAi) {
    const set = (["VEX_LLM_PROVIDERS", "VEX_MODEL_ROUTES"] as const).filter((n) => e[n] !== undefined);
    if (set.length === 0) return { providers: {}, routes: {} };
    throw new ConfigError(
      `Invalid configuration:\n${set.map((n) => `  ${n}: needs an OpenAI-compatible default provider (set OPENAI_API_KEY or OPENAI_BASE_URL)`).join("\n")}`,
    );
  }
  const timeoutMs = e.VEX_LLM_TIMEOUT_MS;
  const routing = resolveLlmRouting({
    providers: e.VEX_LLM_PROVIDERS,
    routes: e.VEX_MODEL_ROUTES,
    inherited: {
      timeoutMs,
      attemptTimeoutMs:
        e.VEX_LLM_ATTEMPT_TIMEOUT_MS ?? Math.min(CONFIG_DEFAULTS.llmAttemptTimeoutMs, timeoutMs),
      maxRetries: e.VEX_LLM_MAX_RETRIES,
      maxConcurrency: e.VEX_LLM_MAX_CONCURRENCY,
      maxConcurrencyPerTenant: e.VEX_LLM_MAX_CONCURRENCY_PER_TENANT,
    },
    env,
    tokenLimitFieldFor: hostedDefaultTokenField,
    attributionFieldFor: attributionFieldOf,
    placeholderKey: PLACEHOLDER_API_KEY,
  });
  if ("problems" in routing)
    throw new ConfigError(`Invalid configuration:\n${routing.problems.map((p) => `  ${p}`).join("\n")}`);
  return routing;
};

/**
 * Traces go to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, or to OTEL_EXPORTER_OTLP_ENDPOINT plus
 * /v1/traces; the signal-specific protocol and headers win over the general ones (the OTLP
 * exporter specification's rules).
 */
const tracingOf = (e: z.infer<typeof envSchema>): Config["tracing"] => {
  const base = e.OTEL_EXPORTER_OTLP_ENDPOINT;
  const url =
    e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    (base === undefined ? undefined : `${base.replace(/\/+$/, "")}/${OTLP_TRACES_PATH}`);
  if (url === undefined || e.OTEL_SDK_DISABLED === "true") return { kind: "off" };
  return {
    kind: "otlp",
    url,
    protocol:
      e.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? e.OTEL_EXPORTER_OTLP_PROTOCOL ?? CONFIG_DEFAULTS.otlpProtocol,
    headers: { ...e.OTEL_EXPORTER_OTLP_HEADERS, ...e.OTEL_EXPORTER_OTLP_TRACES_HEADERS },
    serviceName: e.OTEL_SERVICE_NAME,
    content: e.VEX_TRACE_CONTENT === "true",
  };
};
