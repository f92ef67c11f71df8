import { ApolloArmor } from "@escape.tech/graphql-armor";
import { GraphQLError, Lexer, Source, TokenKind } from "graphql";
import { ErrorCode } from "../domain/errors.js";
import { VALIDATION_FAILED } from "./errors.js";

/** Every request, run and WebSocket limit; each is documented in the README's configuration table. */
export interface Limits {
  readonly rateLimitPerMinute: number;
  readonly rateLimitBurst: number;
  readonly maxConcurrentRunsPerTenant: number;
  readonly maxDocumentBytes: number;
  readonly maxQueryDepth: number;
  readonly maxQueryCost: number;
  readonly maxAliases: number;
  readonly maxDirectives: number;
  readonly maxTokens: number;
  readonly wsMaxPayloadBytes: number;
  readonly wsInitTimeoutMs: number;
  readonly wsMaxSubscriptions: number;
  readonly wsKeepAliveMs: number;
  readonly wsMaxBufferedBytes: number;
  readonly keyRecheckMs: number;
}

/** Largest JSON body accepted on /graphql: the document limit plus room for variables. */
export const bodyLimitBytes = (limits: Limits): number => limits.maxDocumentBytes * 4;

/**
 * GraphQL Armor's depth, cost, alias and directive limits (validation rules, for Apollo and for
 * graphql-ws) and its field-suggestion blocking (an Apollo plugin). Armor's token limit is not used:
 * its Apollo plugin re-parses the document in `parsingDidStart`, where any syntax error (and the
 * limit itself) escapes as an HTTP 500. Tokens are counted by `checkDocument` instead.
 */
export const createArmor = (limits: Limits, production: boolean) =>
  new ApolloArmor({
    maxDepth: { n: limits.maxQueryDepth },
    costLimit: { maxCost: limits.maxQueryCost },
    maxAliases: { n: limits.maxAliases },
    maxDirectives: { n: limits.maxDirectives },
    maxTokens: { enabled: false },
    // Suggestions ("Did you mean …?") help in development and leak the schema in production.
    blockFieldSuggestion: { enabled: production },
  }).protect();

/**
 * "Did you mean …?" in any GraphQL message: field, argument and type suggestions (which Armor's
 * plugin also hides on HTTP, with the same mask) and enum-value suggestions in variable errors
 * (which it misses). Applied to every error in production, on HTTP and WebSocket.
 */
const SUGGESTION = /Did you mean [^"]*".+"/g;
export const hideSuggestions = (message: string) => message.replace(SUGGESTION, "[Suggestion hidden]");

const documentTooLarge = (bytes: number, limit: number) =>
  new GraphQLError(`The GraphQL document is ${bytes} bytes; the limit is ${limit}.`, {
    extensions: { code: ErrorCode.BadUserInput, limit },
  });

const tooManyTokens = (limit: number) =>
  new GraphQLError(`Token limit of ${limit} exceeded.`, {
    extensions: { code: VALIDATION_FAILED, limit },
  });

/**
 * Counts a document's tokens (comments excluded, as the parser counts them), stopping one past
 * `max`. A lexical error ends the count: the parser reports it.
 */
const countTokens = (source: string, max: number): number => {
  const lexer = new Lexer(new Source(source));
  let n = 0;
  try {
    for (let t = lexer.advance(); t.kind !== TokenKind.EOF && n <= max; t = lexer.advance()) n++;
  } catch {
    // a syntax error: left to the parser
  }
  return n;
};

/**
 * The limits checked on a document's text before it is parsed, the same on HTTP and WebSocket:
 * its size in bytes (BAD_USER_INPUT) and its token count (GRAPHQL_VALIDATION_FAILED, like Armor's
 * other limits). Returns the error, or null when the document may be parsed.
 */
export const checkDocument = (source: string, limits: Limits): GraphQLError | null => {
  const bytes = Buffer.byteLength(source);
  if (bytes > limits.maxDocumentBytes) return documentTooLarge(bytes, limits.maxDocumentBytes);
  if (countTokens(source, limits.maxTokens) > limits.maxTokens) return tooManyTokens(limits.maxTokens);
  return null;
};
