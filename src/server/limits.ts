import { ApolloArmor } from "@escape.tech/graphql-armor";
import type { ErrorRequestHandler, RequestHandler } from "express";
import { GraphQLError } from "graphql";
import { ErrorCode } from "../domain/errors.js";

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

/** GraphQL Armor's depth, cost, alias, directive and token limits, for Apollo and for graphql-ws. */
export const createArmor = (limits: Limits, production: boolean) =>
  new ApolloArmor({
    maxDepth: { n: limits.maxQueryDepth },
    costLimit: { maxCost: limits.maxQueryCost },
    maxAliases: { n: limits.maxAliases },
    maxDirectives: { n: limits.maxDirectives },
    maxTokens: { n: limits.maxTokens },
    // Suggestions ("Did you mean …?") help in development and leak the schema in production.
    blockFieldSuggestion: { enabled: production },
  }).protect();

export const documentTooLarge = (bytes: number, limit: number) =>
  new GraphQLError(`The GraphQL document is ${bytes} bytes; the limit is ${limit}.`, {
    extensions: { code: ErrorCode.BadUserInput, limit },
  });

/** Rejects an oversized document on HTTP before Apollo parses it. */
export const documentSizeGuard =
  (limit: number): RequestHandler =>
  (req, res, next) => {
    const source: unknown =
      req.method === "GET" ? req.query.query : (req.body as { query?: unknown } | undefined)?.query;
    const bytes = typeof source === "string" ? Buffer.byteLength(source) : 0;
    if (bytes > limit) {
      res.status(400).json({ errors: [documentTooLarge(bytes, limit).toJSON()] });
      return;
    }
    next();
  };

/** JSON errors for bodies the JSON parser rejects (too large, malformed), instead of HTML pages. */
export const bodyErrorHandler: ErrorRequestHandler = (
  err: { status?: number; type?: string },
  _req,
  res,
  next,
) => {
  if (res.headersSent) return next(err);
  const status = err.status === 413 ? 413 : 400;
  const message = status === 413 ? "Request body too large." : "Malformed JSON body.";
  res.status(status).json({ errors: [{ message, extensions: { code: ErrorCode.BadUserInput } }] });
};
