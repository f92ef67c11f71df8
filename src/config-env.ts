/**
 * The environment the server reads: every variable with its parser and default. `loadConfig` (config.ts)
 * turns the parsed variables into a Config.
 */
import { z } from "zod";
import {
  DEFAULT_LLM_ATTEMPT_TIMEOUT_MS,
  DEFAULT_LLM_TIMEOUT_MS,
  DEFAULT_MAX_CONCURRENCY,
  DEFAULT_MAX_CONCURRENCY_PER_TENANT,
} from "./adapters/openai/defaults.js";
import { TOKEN_LIMIT_FIELDS } from "./adapters/openai/model-params.js";
import { DEFAULT_MAX_RETRIES } from "./adapters/openai/retry.js";
import { llmRoutingEnv } from "./config-llm.js";
import { ED25519_KEY_BYTES } from "./domain/ed25519.js";
import {
  DEFAULT_BASE_MAX_TOKENS,
  DEFAULT_REASONING_BASE_MAX_TOKENS,
  MODEL_PROFILES,
} from "./domain/genome.js";

/** Defaults for every setting; each is documented in the README's configuration table. */
export const CONFIG_DEFAULTS = {
  host: "127.0.0.1",
  port: 4000,
  dataDir: "./data",
  model: "gpt-4o-mini",
  // The LLM defaults are the adapter's and the genome mapping's own, so each has one source.
  llmTimeoutMs: DEFAULT_LLM_TIMEOUT_MS,
  llmAttemptTimeoutMs: DEFAULT_LLM_ATTEMPT_TIMEOUT_MS,
  llmMaxRetries: DEFAULT_MAX_RETRIES,
  llmMaxConcurrency: DEFAULT_MAX_CONCURRENCY,
  llmMaxConcurrencyPerTenant: DEFAULT_MAX_CONCURRENCY_PER_TENANT,
  llmBaseMaxTokens: DEFAULT_BASE_MAX_TOKENS,
  llmReasoningBaseMaxTokens: DEFAULT_REASONING_BASE_MAX_TOKENS,
  shutdownTimeoutMs: 10_000,
  mongoTimeoutMs: 5_000,
  logLevel: "info",
  rateLimitPerMinute: 30,
  rateLimitBurst: 10,
  maxConcurrentRunsPerTenant: 8,
  maxDocumentBytes: 16 * 1024,
  maxQueryDepth: 12,
  maxQueryCost: 5_000,
  maxAliases: 15,
  maxDirectives: 50,
  maxTokens: 2_000,
  wsMaxPayloadBytes: 64 * 1024,
  wsInitTimeoutMs: 3_000,
  wsMaxSubscriptions: 50,
  wsKeepAliveMs: 12_000,
  wsMaxBufferedBytes: 4 * 1024 * 1024,
  keyRecheckMs: 1_000,
  ledgerOrigin: "vex.localhost/ledger",
  anchorFileName: "anchors.jsonl",
  /** Anchor backends without MongoDB (the file anchor is single-node)… */
  anchorsEmbedded: "file",
  /** …and with MONGODB_URI: the anchor every instance can verify. */
  anchorsMongo: "mongo",
  role: "all",
  redisPrefix: "vex",
  workerConcurrency: 10,
  workerLockMs: 15_000,
  workerStalledIntervalMs: 10_000,
  runMaxWorkersLost: 2,
  serviceName: "vex-graphql",
  otlpProtocol: "http/protobuf",
} as const;

/** What a process does: serve the API, execute runs, or both (docs/scaling.md). */
export const ROLES = ["all", "api", "worker"] as const;
export type Role = (typeof ROLES)[number];

/** OTLP transports the trace exporter speaks (OTEL_EXPORTER_OTLP_PROTOCOL); gRPC is not one of them. */
export const OTLP_PROTOCOLS = ["http/protobuf", "http/json"] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

/** Anchor backends VEX_ANCHORS may list. */
export const ANCHOR_BACKENDS = ["file", "mongo"] as const;
export type AnchorBackendName = (typeof ANCHOR_BACKENDS)[number];

/** A positive-integer variable with a default. */
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** OpenTelemetry's `key1=value1,key2=value2` lists (values percent-encoded), as for OTEL_EXPORTER_OTLP_HEADERS. */
const keyValueList = z
  .string()
  .regex(
    /^\s*[^=,\s]+\s*=[^,]*(,\s*[^=,\s]+\s*=[^,]*)*$/,
    "must be a list of key=value pairs separated by commas",
  )
  .transform((v) =>
    Object.fromEntries(
      v.split(",").map((pair) => {
        const at = pair.indexOf("=");
        return [pair.slice(0, at).trim(), decodeURIComponent(pair.slice(at + 1).trim())];
      }),
    ),
  );

/** Every environment variable the server reads, with its parser. Nothing else reads process.env. */
export const envSchema = z.object({
  HOST: z.string().min(1).default(CONFIG_DEFAULTS.host),
  PORT: z.coerce.number().int().min(0).max(65_535).default(CONFIG_DEFAULTS.port),
  VEX_DATA_DIR: z.string().min(1).default(CONFIG_DEFAULTS.dataDir),
  MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, "must start with mongodb:// or mongodb+srv://")
    .optional(),
  VEX_MONGO_TIMEOUT_MS: z.coerce.number().int().positive().default(CONFIG_DEFAULTS.mongoTimeoutMs),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "must start with redis:// or rediss://")
    .optional(),
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_BASE_URL: z.url().optional(),
  VEX_MODEL: z.string().min(1).default(CONFIG_DEFAULTS.model),
  VEX_LLM_TIMEOUT_MS: z.coerce.number().int().positive().default(CONFIG_DEFAULTS.llmTimeoutMs),
  VEX_LLM_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(CONFIG_DEFAULTS.llmMaxRetries),
  VEX_LLM_MAX_CONCURRENCY: z.coerce.number().int().positive().default(CONFIG_DEFAULTS.llmMaxConcurrency),
  VEX_LLM_MAX_CONCURRENCY_PER_TENANT: z.coerce
    .number()
    .int()
    .positive()
    .default(CONFIG_DEFAULTS.llmMaxConcurrencyPerTenant),
  VEX_LLM_BASE_MAX_TOKENS: z.coerce.number().int().positive().default(CONFIG_DEFAULTS.llmBaseMaxTokens),
  VEX_LLM_STREAM: z.enum(["true", "false"]).default("true"),
  // Unset: the default, but never more than the call's deadline.
  VEX_LLM_ATTEMPT_TIMEOUT_MS: z.coerce.number().int().positive().optional(),
  VEX_REASONING_BASE_MAX_TOKENS: positiveInt(CONFIG_DEFAULTS.llmReasoningBaseMaxTokens),
  VEX_MODEL_PROFILE: z.enum(MODEL_PROFILES).optional(),
  VEX_MODEL_PROFILES: z
    .string()
    .transform((v, ctx) => {
      try {
        return JSON.parse(v) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: 'must be a JSON object such as {"o3-mini":"reasoning"}' });
        return z.NEVER;
      }
    })
    .pipe(z.record(z.string().min(1), z.enum(MODEL_PROFILES)))
    .optional(),
  VEX_LLM_TOKEN_LIMIT_FIELD: z.enum(TOKEN_LIMIT_FIELDS).optional(),
  VEX_LLM_CONTEXT_HEADERS: z.enum(["true", "false"]).default("false"),
  VEX_LLM_ATTRIBUTION_SALT: z.string().min(16, "must be at least 16 characters").optional(),
  VEX_LLM_CHECK: z.enum(["true", "false"]).default("false"),
  ...llmRoutingEnv,
  VEX_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(CONFIG_DEFAULTS.shutdownTimeoutMs),
  VEX_ROLE: z.enum(ROLES).default(CONFIG_DEFAULTS.role),
  VEX_REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, '_', '.', '-' only")
    .default(CONFIG_DEFAULTS.redisPrefix),
  VEX_WORKER_CONCURRENCY: positiveInt(CONFIG_DEFAULTS.workerConcurrency),
  VEX_WORKER_LOCK_MS: positiveInt(CONFIG_DEFAULTS.workerLockMs),
  VEX_WORKER_STALLED_INTERVAL_MS: positiveInt(CONFIG_DEFAULTS.workerStalledIntervalMs),
  VEX_RUN_MAX_WORKERS_LOST: z.coerce.number().int().min(0).default(CONFIG_DEFAULTS.runMaxWorkersLost),
  LOG_LEVEL: z.enum(LOG_LEVELS).default(CONFIG_DEFAULTS.logLevel),
  VEX_AUTH: z.enum(["enabled", "disabled"]).default("enabled"),
  VEX_INTROSPECTION: z.enum(["true", "false"]).optional(),
  VEX_RATE_LIMIT_PER_MINUTE: positiveInt(CONFIG_DEFAULTS.rateLimitPerMinute),
  VEX_RATE_LIMIT_BURST: z.coerce.number().int().min(0).default(CONFIG_DEFAULTS.rateLimitBurst),
  VEX_MAX_CONCURRENT_RUNS_PER_TENANT: positiveInt(CONFIG_DEFAULTS.maxConcurrentRunsPerTenant),
  VEX_TENANT_TOKENS_PER_DAY: z.coerce.number().int().positive().optional(),
  VEX_MAX_DOCUMENT_BYTES: positiveInt(CONFIG_DEFAULTS.maxDocumentBytes),
  VEX_MAX_QUERY_DEPTH: positiveInt(CONFIG_DEFAULTS.maxQueryDepth),
  VEX_MAX_QUERY_COST: positiveInt(CONFIG_DEFAULTS.maxQueryCost),
  VEX_MAX_ALIASES: positiveInt(CONFIG_DEFAULTS.maxAliases),
  VEX_MAX_DIRECTIVES: positiveInt(CONFIG_DEFAULTS.maxDirectives),
  VEX_MAX_TOKENS: positiveInt(CONFIG_DEFAULTS.maxTokens),
  VEX_WS_MAX_PAYLOAD_BYTES: positiveInt(CONFIG_DEFAULTS.wsMaxPayloadBytes),
  VEX_WS_INIT_TIMEOUT_MS: positiveInt(CONFIG_DEFAULTS.wsInitTimeoutMs),
  VEX_WS_MAX_SUBSCRIPTIONS: positiveInt(CONFIG_DEFAULTS.wsMaxSubscriptions),
  VEX_WS_KEEPALIVE_MS: positiveInt(CONFIG_DEFAULTS.wsKeepAliveMs),
  VEX_WS_MAX_BUFFERED_BYTES: positiveInt(CONFIG_DEFAULTS.wsMaxBufferedBytes),
  VEX_KEY_RECHECK_MS: positiveInt(CONFIG_DEFAULTS.keyRecheckMs),
  VEX_SUBSCRIBER_BUFFER: z.coerce.number().int().positive().optional(),
  VEX_LEDGER_ORIGIN: z
    .string()
    .regex(/^[^\s+]+$/u, "must contain neither spaces nor '+'")
    .default(CONFIG_DEFAULTS.ledgerOrigin),
  VEX_LEDGER_SIGNING_KEY: z
    .string()
    .refine(
      (v) => /^[A-Za-z0-9+/]+={0,2}$/.test(v) && Buffer.from(v, "base64").length === ED25519_KEY_BYTES,
      `must be the base64 of a ${ED25519_KEY_BYTES}-byte Ed25519 seed`,
    )
    .optional(),
  VEX_ANCHOR_FILE: z.string().min(1).optional(),
  VEX_ANCHORS: z
    .string()
    .optional()
    .transform((v) => v ?? "")
    .transform((v) => [
      ...new Set(
        v
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== "" && s !== "none"),
      ),
    ])
    .pipe(z.array(z.enum(ANCHOR_BACKENDS))),
  OTEL_SDK_DISABLED: z.enum(["true", "false"]).default("false"),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url().optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(OTLP_PROTOCOLS).optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z.enum(OTLP_PROTOCOLS).optional(),
  OTEL_EXPORTER_OTLP_HEADERS: keyValueList.optional(),
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: keyValueList.optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default(CONFIG_DEFAULTS.serviceName),
  VEX_TRACE_CONTENT: z.enum(["true", "false"]).default("false"),
  NODE_ENV: z.string().optional(),
});
