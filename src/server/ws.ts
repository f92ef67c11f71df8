import type { Server } from "node:http";
import {
  type ExecutionResult,
  GraphQLError,
  type GraphQLSchema,
  parse,
  specifiedRules,
  type ValidationRule,
  validate,
} from "graphql";
import type { Context } from "graphql-ws";
import { type Extra, useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import { ErrorCode } from "../domain/errors.js";
import type { Authenticator, Principal } from "./auth.js";
import type { GraphQLContext } from "./context.js";
import type { ErrorFormatter } from "./errors.js";
import { documentTooLarge, type Limits } from "./limits.js";

/** Close codes this server uses besides graphql-ws's own (4400, 4403, 4408, …). */
export const CLOSE_KEY_REVOKED = 4403;
/** The client reads too slowly: more than wsMaxBufferedBytes is waiting in the socket's send buffer. */
export const CLOSE_SLOW_CONSUMER = 4413;

type ExtraFields = { principal: Principal };
type ConnectionContext = Context<Record<string, unknown> | undefined, Extra & Partial<ExtraFields>>;

export interface WsOptions {
  readonly server: Server;
  readonly path: string;
  readonly schema: GraphQLSchema;
  readonly limits: Limits;
  readonly auth: Authenticator;
  readonly context: (principal: Principal) => GraphQLContext;
  readonly validationRules: readonly ValidationRule[];
  readonly formatError: ErrorFormatter;
}

/**
 * graphql-ws on the HTTP server's path: authentication in onConnect (refusal closes with 4403),
 * the same document limits as HTTP, a cap on subscriptions per socket, keep-alive pings, a bound
 * on data buffered for a slow consumer, and periodic re-checks that close sockets whose key was
 * revoked. Returns a disposer.
 */
export const attachGraphqlWs = (options: WsOptions): { dispose(): Promise<void>; connections(): number } => {
  const { limits } = options;
  const wss = new WebSocketServer({
    server: options.server,
    path: options.path,
    maxPayload: limits.wsMaxPayloadBytes,
  });
  const open = new Set<ConnectionContext>();
  const formatErrors = (errors: readonly GraphQLError[]) =>
    errors.map((e) => options.formatError(e.toJSON(), e));
  // Errors returned from onSubscribe reach the client through onError, which formats them.

  const handle = useServer<Record<string, unknown> | undefined, ExtraFields>(
    {
      schema: options.schema,
      connectionInitWaitTimeout: limits.wsInitTimeoutMs,
      onConnect: async (ctx) => {
        try {
          ctx.extra.principal = await options.auth.authenticate(ctx.connectionParams?.authorization);
        } catch {
          return false;
        }
        open.add(ctx);
        return true;
      },
      onClose: (ctx) => void open.delete(ctx),
      onSubscribe: async (ctx, _id, payload) => {
        const principal = ctx.extra.principal;
        if (principal === undefined || !(await options.auth.stillValid(principal))) {
          ctx.extra.socket.close(CLOSE_KEY_REVOKED, "Forbidden");
          return [new GraphQLError("Forbidden.", { extensions: { code: "UNAUTHENTICATED" } })];
        }
        if (Object.keys(ctx.subscriptions).length >= limits.wsMaxSubscriptions) {
          return [
            new GraphQLError(`At most ${limits.wsMaxSubscriptions} operations may run on one socket.`, {
              extensions: { code: ErrorCode.BadUserInput, limit: limits.wsMaxSubscriptions },
            }),
          ];
        }
        const bytes = Buffer.byteLength(payload.query);
        if (bytes > limits.maxDocumentBytes) return [documentTooLarge(bytes, limits.maxDocumentBytes)];
        let document: ReturnType<typeof parse>;
        try {
          document = parse(payload.query, { maxTokens: limits.maxTokens });
        } catch (e) {
          return [e as GraphQLError];
        }
        const errors = validate(options.schema, document, [...specifiedRules, ...options.validationRules]);
        if (errors.length > 0) return errors;
        return {
          schema: options.schema,
          document,
          variableValues: payload.variables,
          operationName: payload.operationName,
          contextValue: options.context(principal),
        };
      },
      onNext: (ctx, _id, _payload, _args, result) => {
        if (ctx.extra.socket.bufferedAmount > limits.wsMaxBufferedBytes) {
          ctx.extra.socket.close(CLOSE_SLOW_CONSUMER, "Slow consumer: too much data buffered");
        }
        return formatResult(result, options.formatError);
      },
      onError: (_ctx, _id, _payload, errors) => formatErrors(errors),
    },
    wss,
    limits.wsKeepAliveMs,
  );

  const recheck = setInterval(async () => {
    for (const ctx of open) {
      const principal = ctx.extra.principal;
      if (principal && !(await options.auth.stillValid(principal).catch(() => true))) {
        ctx.extra.socket.close(CLOSE_KEY_REVOKED, "Forbidden: API key revoked");
        open.delete(ctx);
      }
    }
  }, limits.keyRecheckMs);
  recheck.unref();

  return {
    connections: () => open.size,
    dispose: async () => {
      clearInterval(recheck);
      await handle.dispose();
    },
  };
};

/**
 * Errors in a graphql-ws result. Those without a path were raised before execution began — variable
 * values that do not coerce — and are the caller's input errors, as Apollo reports them over HTTP.
 */
const formatResult = (result: ExecutionResult, format: ErrorFormatter): ExecutionResult =>
  result.errors
    ? ({
        ...result,
        errors: result.errors.map((e) => format(e.toJSON(), e, e.path ? undefined : ErrorCode.BadUserInput)),
      } as unknown as ExecutionResult)
    : result;
