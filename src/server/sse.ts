import type { Request, RequestHandler, Response } from "express";
import { type ExecutionResult, GraphQLError, getOperationAST } from "graphql";
import { createHandler, type RequestParams } from "graphql-sse";
import { ErrorCode } from "../domain/errors.js";
import type { GraphQLContext } from "../resolvers/context.type.js";
import { type Authenticator, type Principal, UNAUTHENTICATED } from "./auth.js";
import { type ErrorFormatter, isGraphQLError } from "./errors.js";
import {
  checkOperation,
  formatResult,
  messageShown,
  type OperationChecks,
  validationRulesOf,
} from "./operation.js";

export interface SseOptions extends OperationChecks {
  readonly auth: Authenticator;
  readonly context: (principal: Principal) => GraphQLContext;
  readonly formatError: ErrorFormatter;
  /** Production hides "Did you mean …?" suggestions (as on HTTP). */
  readonly production: boolean;
  /** Where queries and mutations are served, for the error that refuses them here. */
  readonly graphqlPath: string;
}

export interface GraphqlSse {
  /** The Express handler for the stream path (POST or GET, `Accept: text/event-stream`). */
  readonly handler: RequestHandler;
  /** Subscriptions streaming now. */
  streams(): number;
  /**
   * Stops the key re-checks and closes every stream's connection, without a `complete` event, so
   * that clients reconnect (to another instance) and resume; the subscriptions stop.
   */
  dispose(): void;
}

/** One streaming subscription: who asked, its response, and how to end it with a final error. */
interface OpenStream {
  readonly principal: Principal;
  readonly res: Response;
  readonly end: (error: GraphQLError) => void;
}

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8" };
const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  503: "Service Unavailable",
};

/** A refusal before any event is streamed: a plain JSON GraphQL response with an HTTP status. */
const refusal = (status: number, errors: readonly unknown[]) =>
  [
    JSON.stringify({ errors }),
    { status, statusText: STATUS_TEXT[status] ?? "Error", headers: JSON_HEADERS },
  ] as const;

/**
 * GraphQL over Server-Sent Events (graphql-sse, distinct connections mode: one subscription per
 * request) for clients that cannot use WebSocket. The same subscriptions, authentication
 * (`Authorization` header), document limits, validation rules, error codes and tenant scoping as
 * graphql-ws; queries and mutations stay on the GraphQL endpoint. A stream whose API key is revoked
 * ends with an UNAUTHENTICATED error at the next key re-check.
 *
 * Reads are paced by the client: the handler writes one event at a time, so a slow reader holds
 * back its own subscription, whose event-bus queue is bounded (run events are refilled from the
 * log; tokens are live-only and dropped).
 */
export const createGraphqlSse = (options: SseOptions): GraphqlSse => {
  const rules = validationRulesOf(options);
  const shown = messageShown(options.production);
  const principals = new WeakMap<Request, Principal>();
  const open = new Set<OpenStream>();

  const formatted = (error: GraphQLError) => {
    const f = options.formatError(error.toJSON(), error);
    return { ...f, message: shown(f.message) };
  };

  // graphql-sse types a context as an open record; ours is the server's GraphQLContext.
  const handle = createHandler<Request, { res: Response }, Record<PropertyKey, unknown>>({
    // Distinct connections only: no stream reservations (single connection mode) to keep per client.
    authenticate: async (req) => {
      try {
        principals.set(req.raw, await options.auth.authenticate(req.headers.get("authorization")));
        return null;
      } catch (e) {
        const error = isGraphQLError(e)
          ? e
          : new GraphQLError("Unauthenticated.", { extensions: { code: UNAUTHENTICATED } });
        const status = (error.extensions.http as { status?: number } | undefined)?.status ?? 401;
        return refusal(status, [formatted(error)]);
      }
    },
    onSubscribe: (req, params: RequestParams) => {
      const principal = principals.get(req.raw);
      if (principal === undefined) return refusal(401, []);
      const checked = checkOperation(params.query, options, rules);
      if ("errors" in checked) return refusal(400, checked.errors.map(formatted));
      if (getOperationAST(checked.document, params.operationName)?.operation !== "subscription") {
        const error = new GraphQLError(
          `Only subscriptions are served over Server-Sent Events; send queries and mutations to ${options.graphqlPath}.`,
          { extensions: { code: ErrorCode.BadRequest } },
        );
        return refusal(400, [formatted(error)]);
      }
      return {
        schema: options.schema,
        document: checked.document,
        variableValues: params.variables,
        operationName: params.operationName,
        contextValue: options.context(principal) as unknown as Record<PropertyKey, unknown>,
      };
    },
    // onSubscribe has validated the document with the server's rules (and answered 400 on errors).
    validate: () => [],
    onOperation: (_ctx, req, _args, result) => {
      const principal = principals.get(req.raw);
      if (principal === undefined || !isAsyncIterable(result)) return;
      return untilEnded(result, (end) => {
        const stream: OpenStream = { principal, res: req.context.res, end };
        open.add(stream);
        return () => open.delete(stream);
      });
    },
    onNext: (_ctx, _req, result) => formatResult(result as ExecutionResult, options.formatError, shown),
  });

  const recheck = setInterval(async () => {
    // One lookup per key per tick, however many streams share it (as on WebSocket).
    const verdicts = new Map<string | null, Promise<boolean>>();
    for (const stream of open) {
      const { keyId } = stream.principal;
      let valid = verdicts.get(keyId);
      if (valid === undefined) {
        valid = options.auth.stillValid(stream.principal).catch(() => true);
        verdicts.set(keyId, valid);
      }
      if (!(await valid)) {
        stream.end(
          new GraphQLError("Forbidden: API key revoked.", { extensions: { code: UNAUTHENTICATED } }),
        );
      }
    }
  }, options.limits.keyRecheckMs);
  recheck.unref();

  /**
   * graphql-sse's core on Express, written like the WebSocket transport: events are written as
   * soon as they are produced, never waiting for the reader (graphql-sse would otherwise queue them
   * in memory without bound), and a stream with more than wsMaxBufferedBytes unsent is cut.
   */
  const serve = async (req: Request, res: Response) => {
    const [body, init] = await handle({
      method: req.method,
      url: req.url,
      headers: { get: (name) => req.header(name) ?? null },
      // express.json parsed a POST's body; a GET carries its operation in the URL.
      body: (req.body as Record<string, unknown> | undefined) ?? null,
      raw: req,
      context: { res },
    });
    res.writeHead(init.status, init.statusText, init.headers);
    if (body === null || typeof body === "string") {
      res.end(body ?? undefined);
      return;
    }
    res.once("close", () => void body.return(undefined));
    for await (const chunk of body) {
      if (!res.writable) break;
      res.write(chunk);
      if (res.writableLength > options.limits.wsMaxBufferedBytes) {
        res.destroy();
        break;
      }
    }
    res.end();
  };

  return {
    handler: (req, res, next) => void serve(req, res).catch(next),
    streams: () => open.size,
    dispose: () => {
      clearInterval(recheck);
      for (const stream of open) stream.res.destroy();
      open.clear();
    },
  };
};

const isAsyncIterable = (value: unknown): value is AsyncIterable<ExecutionResult> =>
  typeof value === "object" && value !== null && Symbol.asyncIterator in value;

/**
 * The subscription's results until it completes, or until `end(error)` is called: then its source is
 * stopped and the error is the stream's last result. `register` returns its own unregistration.
 */
async function* untilEnded(
  source: AsyncIterable<ExecutionResult>,
  register: (end: (error: GraphQLError) => void) => () => void,
): AsyncGenerator<ExecutionResult> {
  let ended: (error: GraphQLError) => void = () => undefined;
  const endedWith = new Promise<GraphQLError>((resolve) => {
    ended = resolve;
  });
  const unregister = register(ended);
  const iterator = source[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), endedWith]);
      if (next instanceof GraphQLError) {
        yield { errors: [next] };
        return;
      }
      if (next.done) return;
      yield next.value;
    }
  } finally {
    unregister();
    await iterator.return?.();
  }
}
