import type { GraphQLFormattedError } from "graphql";
import { ERROR_CODES, type ErrorCode } from "../src/domain/errors.js";

export { ERROR_CODES };

/** Codes the client raises itself, beside the server's. */
export const CLIENT_ERROR_CODES = [
  /** No connection could be made (refused, DNS, TLS, reset before an answer). See {@link VexUnreachableError}. */
  "SERVER_UNREACHABLE",
  /** The server did not answer within the request timeout. */
  "TIMEOUT",
  /** Something answered, but not a GraphQL response (wrong URL, proxy error page, …). */
  "BAD_RESPONSE",
  /** The WebSocket was closed with a code that retrying cannot fix. */
  "CONNECTION_CLOSED",
] as const;

/** The server's codes (its `extensions.code`, a stable part of the API): the domain's one list. */
export type ServerErrorCode = ErrorCode;
export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];

/**
 * Codes a {@link VexError} carries: the server's ({@link ERROR_CODES}) and the client's own
 * ({@link CLIENT_ERROR_CODES}). Unknown server codes (from a newer server) pass through as plain strings.
 */
export type VexErrorCode = ServerErrorCode | ClientErrorCode | (string & {});

/** An error from the VEX server or from talking to it. `code` is what to switch on. */
export class VexError extends Error {
  override readonly name: string = "VexError";
  /** The server's `extensions.code`, or one of the client's own codes. */
  readonly code: VexErrorCode;
  /** The first error's extensions as the server sent them (e.g. `field`, `argument`, `retryAfterMs`). */
  readonly extensions: Readonly<Record<string, unknown>>;
  /** Every GraphQL error of the response (empty for transport errors). */
  readonly errors: readonly GraphQLFormattedError[];
  /** HTTP status, when the error came over HTTP. */
  readonly status: number | undefined;

  constructor(
    code: VexErrorCode,
    message: string,
    details: {
      extensions?: Readonly<Record<string, unknown>>;
      errors?: readonly GraphQLFormattedError[];
      status?: number;
      cause?: unknown;
    } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.extensions = details.extensions ?? {};
    this.errors = details.errors ?? [];
    this.status = details.status;
  }
}

/** The server could not be reached at all: nothing is listening, the host is unknown, or the connection dropped and stayed down. */
export class VexUnreachableError extends VexError {
  override readonly name = "VexUnreachableError";
  /** The endpoint that was tried. */
  readonly url: string;

  constructor(url: string, reason: string, cause?: unknown) {
    super("SERVER_UNREACHABLE", `VEX server unreachable at ${url}: ${reason}`, { cause });
    this.url = url;
  }
}

/** True for a {@link VexError}, optionally with one of the given codes. */
export const isVexError = (e: unknown, ...codes: VexErrorCode[]): e is VexError =>
  e instanceof VexError && (codes.length === 0 || codes.includes(e.code));

/** A VexError from a response's GraphQL errors: the first error's code and message lead. */
export const fromGraphQLErrors = (errors: readonly GraphQLFormattedError[], status?: number): VexError => {
  const first = errors[0];
  const extensions = (first?.extensions ?? {}) as Record<string, unknown>;
  const code = typeof extensions.code === "string" ? extensions.code : "INTERNAL_SERVER_ERROR";
  const message = first?.message ?? "The server returned an error without a message.";
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
  return new VexError(code, `${message}${more}`, {
    extensions,
    errors,
    ...(status === undefined ? {} : { status }),
  });
};

/** The most specific description of a low-level network failure (fetch wraps the socket error in `cause`). */
export const describeNetworkError = (e: unknown): string => {
  const parts: string[] = [];
  let current: unknown = e;
  for (let depth = 0; current !== undefined && current !== null && depth < 4; depth++) {
    if (current instanceof AggregateError && current.errors.length > 0)
      current = current.errors[0] as unknown;
    if (current === undefined || current === null) break;
    const message =
      typeof current === "object" && "message" in current && typeof current.message === "string"
        ? current.message
        : String(current);
    if (message && message !== "fetch failed" && !parts.includes(message)) parts.push(message);
    current = typeof current === "object" && "cause" in current ? current.cause : undefined;
  }
  return parts.at(-1) ?? "connection failed";
};
