/** Stable error codes. They are part of the API: clients switch on `extensions.code`. */
export const ErrorCode = {
  BadUserInput: "BAD_USER_INPUT",
  NotFound: "NOT_FOUND",
  Conflict: "CONFLICT",
  StoreUnavailable: "STORE_UNAVAILABLE",
  LlmUnavailable: "LLM_UNAVAILABLE",
  LlmOutputInvalid: "LLM_OUTPUT_INVALID",
  LlmTimeout: "LLM_TIMEOUT",
  /** The LLM server refused the request itself (a 4xx that retrying cannot fix). */
  LlmRequestRejected: "LLM_REQUEST_REJECTED",
  /** The LLM server refused the credentials (401/403): OPENAI_API_KEY is wrong. */
  LlmAuthFailed: "LLM_AUTH_FAILED",
  /** The LLM server does not serve the configured model: VEX_MODEL (or OPENAI_BASE_URL) is wrong. */
  LlmModelNotFound: "LLM_MODEL_NOT_FOUND",
  Cancelled: "CANCELLED",
  Interrupted: "INTERRUPTED",
  ShuttingDown: "SHUTTING_DOWN",
  RateLimited: "RATE_LIMITED",
  ConcurrencyLimited: "CONCURRENCY_LIMITED",
  /** A run lost its worker more often than allowed (a run that keeps killing its workers). */
  WorkerLost: "WORKER_LOST",
  /** The run's ledger entry or anchor could not be recorded: its result is not provable. */
  ProvenanceFailed: "PROVENANCE_FAILED",
  /** The run's evolution step failed. */
  EvolutionFailed: "EVOLUTION_FAILED",
  /** A token budget (the run's maxTotalTokens, or the tenant's daily quota) would have been exceeded. */
  BudgetExceeded: "BUDGET_EXCEEDED",
  /** A review nobody decided in time, with onTimeout FAIL: the run ends FAILED. */
  ReviewTimedOut: "REVIEW_TIMED_OUT",
  /** A second decision on a review that was decided already. */
  ReviewAlreadyDecided: "REVIEW_ALREADY_DECIDED",
  Internal: "INTERNAL_SERVER_ERROR",
  /** A missing, malformed, unknown or revoked API key (HTTP 401; WebSocket close 4403). */
  Unauthenticated: "UNAUTHENTICATED",
  /** A request the transport refuses before GraphQL runs (e.g. a subscription over HTTP). */
  BadRequest: "BAD_REQUEST",
  /** A document that does not parse. */
  GraphqlParseFailed: "GRAPHQL_PARSE_FAILED",
  /** A document that does not validate against the schema or exceeds a document limit. */
  GraphqlValidationFailed: "GRAPHQL_VALIDATION_FAILED",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Who is at fault: the caller, this system, or a service it depends on. */
export type ErrorCategory = "USER" | "SYSTEM" | "THIRD_PARTY";

const CATEGORY: Record<ErrorCode, ErrorCategory> = {
  BAD_USER_INPUT: "USER",
  NOT_FOUND: "USER",
  CONFLICT: "USER",
  STORE_UNAVAILABLE: "THIRD_PARTY",
  LLM_UNAVAILABLE: "THIRD_PARTY",
  LLM_OUTPUT_INVALID: "THIRD_PARTY",
  LLM_TIMEOUT: "THIRD_PARTY",
  LLM_REQUEST_REJECTED: "SYSTEM",
  LLM_AUTH_FAILED: "SYSTEM",
  LLM_MODEL_NOT_FOUND: "SYSTEM",
  CANCELLED: "USER",
  INTERRUPTED: "SYSTEM",
  SHUTTING_DOWN: "SYSTEM",
  RATE_LIMITED: "USER",
  CONCURRENCY_LIMITED: "USER",
  WORKER_LOST: "SYSTEM",
  PROVENANCE_FAILED: "SYSTEM",
  EVOLUTION_FAILED: "SYSTEM",
  BUDGET_EXCEEDED: "USER",
  REVIEW_TIMED_OUT: "USER",
  REVIEW_ALREADY_DECIDED: "USER",
  INTERNAL_SERVER_ERROR: "SYSTEM",
  UNAUTHENTICATED: "USER",
  BAD_REQUEST: "USER",
  GRAPHQL_PARSE_FAILED: "USER",
  GRAPHQL_VALIDATION_FAILED: "USER",
};

/** Every code the server sends, in one list (the client derives its codes from it). */
export const ERROR_CODES: readonly ErrorCode[] = Object.values(ErrorCode);

/** The one error type the domain, orchestrator and adapters throw. The server maps it to a GraphQLError. */
export class AppError extends Error {
  override readonly name = "AppError";
  readonly category: ErrorCategory;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.category = CATEGORY[code];
    this.details = options?.details;
  }

  readonly details: Record<string, unknown> | undefined;
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

export const badInput = (message: string, details?: Record<string, unknown>) =>
  new AppError(ErrorCode.BadUserInput, message, details ? { details } : undefined);

/** For exhaustive switches over unions: the compiler proves the default branch unreachable. */
export class UnreachableCaseError extends Error {
  constructor(value: never) {
    super(`Unreachable case: ${JSON.stringify(value)}`);
  }
}
