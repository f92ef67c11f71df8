import { unwrapResolverError } from "@apollo/server/errors";
import type { GraphQLError, GraphQLFormattedError } from "graphql";
import { AppError, ErrorCode } from "../domain/errors.js";

/** Code for a GraphQLError that carries none: graphql-ws reports validation errors without one. */
export const VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED";
/** Code of a request the endpoint does not serve (Apollo's, used on every transport). */
export const BAD_REQUEST = "BAD_REQUEST";
/** Code of a document that does not parse (Apollo's, used on WebSocket too). */
export const PARSE_FAILED = "GRAPHQL_PARSE_FAILED";

/**
 * Recognises GraphQLErrors by their toStringTag rather than instanceof: graphql ships both an ESM and
 * a CommonJS build, and errors raised by a library that loaded the other build fail instanceof.
 */
export const isGraphQLError = (e: unknown): e is GraphQLError =>
  Object.prototype.toString.call(e) === "[object GraphQLError]";

/**
 * The one error formatter for HTTP and WebSocket. AppErrors keep their message and get their stable
 * code; GraphQL's own errors (syntax, validation, variable coercion) keep theirs; anything else is
 * masked as INTERNAL_SERVER_ERROR and handed to `report`.
 */
export const createErrorFormatter =
  (report: (error: unknown) => void) =>
  (
    formatted: GraphQLFormattedError,
    error: unknown,
    fallbackCode: string = VALIDATION_FAILED,
  ): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof AppError) {
      return {
        ...formatted,
        message: original.message,
        extensions: { ...original.details, code: original.code },
      };
    }
    if (isGraphQLError(original)) {
      const code = formatted.extensions?.code ?? original.extensions.code ?? fallbackCode;
      return { ...formatted, extensions: { ...formatted.extensions, code } };
    }
    report(original);
    return {
      message: "Internal server error.",
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: ErrorCode.Internal },
    };
  };

export type ErrorFormatter = ReturnType<typeof createErrorFormatter>;
