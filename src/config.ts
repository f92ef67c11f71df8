import { z } from "zod";

/** Defaults for every setting; each is documented in the README's configuration table. */
export const CONFIG_DEFAULTS = {
  host: "127.0.0.1",
  port: 4000,
  dataDir: "./data",
  model: "gpt-4o-mini",
  llmTimeoutMs: 60_000,
  llmMaxRetries: 3,
  llmMaxConcurrency: 16,
  llmMaxConcurrencyPerTenant: 8,
  llmBaseMaxTokens: 512,
  shutdownTimeoutMs: 10_000,
  logLevel: "info",
} as const;

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** Every environment variable the server reads, with its parser. Nothing else reads process.env. */
const envSchema = z.object({
  HOST: z.string().min(1).default(CONFIG_DEFAULTS.host),
  PORT: z.coerce.number().int().min(0).max(65_535).default(CONFIG_DEFAULTS.port),
  VEX_DATA_DIR: z.string().min(1).default(CONFIG_DEFAULTS.dataDir),
  MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, "must start with mongodb:// or mongodb+srv://")
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
  VEX_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(CONFIG_DEFAULTS.shutdownTimeoutMs),
  LOG_LEVEL: z.enum(LOG_LEVELS).default(CONFIG_DEFAULTS.logLevel),
  NODE_ENV: z.string().optional(),
});

export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly store:
    | { readonly kind: "embedded"; readonly dataDir: string }
    | { readonly kind: "mongo"; readonly uri: string };
  readonly llm:
    | { readonly kind: "offline"; readonly baseMaxTokens: number }
    | {
        readonly kind: "openai";
        readonly apiKey: string;
        readonly baseUrl: string | undefined;
        readonly model: string;
        readonly timeoutMs: number;
        readonly maxRetries: number;
        readonly maxConcurrency: number;
        readonly maxConcurrencyPerTenant: number;
        readonly baseMaxTokens: number;
      };
  readonly shutdownTimeoutMs: number;
  readonly logLevel: LogLevel;
  readonly production: boolean;
}

/** Raised for invalid configuration; its message names every offending variable. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** Local servers (Ollama, vLLM, LM Studio) accept any key; the client library still wants one. */
const PLACEHOLDER_API_KEY = "not-needed";

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
  return Object.freeze<Config>({
    host: e.HOST,
    port: e.PORT,
    store:
      e.MONGODB_URI !== undefined
        ? { kind: "mongo", uri: e.MONGODB_URI }
        : { kind: "embedded", dataDir: e.VEX_DATA_DIR },
    llm: useOpenAi
      ? {
          kind: "openai",
          apiKey: e.OPENAI_API_KEY ?? PLACEHOLDER_API_KEY,
          baseUrl: e.OPENAI_BASE_URL,
          model: e.VEX_MODEL,
          timeoutMs: e.VEX_LLM_TIMEOUT_MS,
          maxRetries: e.VEX_LLM_MAX_RETRIES,
          maxConcurrency: e.VEX_LLM_MAX_CONCURRENCY,
          maxConcurrencyPerTenant: e.VEX_LLM_MAX_CONCURRENCY_PER_TENANT,
          baseMaxTokens: e.VEX_LLM_BASE_MAX_TOKENS,
        }
      : { kind: "offline", baseMaxTokens: e.VEX_LLM_BASE_MAX_TOKENS },
    shutdownTimeoutMs: e.VEX_SHUTDOWN_TIMEOUT_MS,
    logLevel: e.LOG_LEVEL,
    production: e.NODE_ENV === "production",
  });
};
