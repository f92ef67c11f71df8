import type { IncomingMessage, ServerResponse } from "node:http";
import { type ApolloServer, HeaderMap } from "@apollo/server";
import { ErrorCode } from "../domain/errors.js";
import type { GraphQLContext } from "../resolvers/context.type.js";
import { checkDocument, type Limits } from "./limits.js";

/** A connect-style step on node:http's request and response (Express's JSON parser is one). */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

export interface GraphqlHttpOptions {
  readonly apollo: ApolloServer<GraphQLContext>;
  /** Parses a JSON body onto `req.body`, with its size limit: the server's one JSON parser. */
  readonly jsonBody: Middleware;
  readonly limits: Limits;
  /** The context of a request with this `Authorization` header (throws when it is refused). */
  readonly context: (authorization: string | undefined) => Promise<GraphQLContext>;
  /** Runs first, around all the rest (a span per request). */
  readonly around?: Middleware;
}

/**
 * GraphQL over HTTP (GET and POST) on node:http through Apollo's integration API,
 * `executeHTTPGraphQLRequest`, as Apollo's own standalone server serves it: the JSON body parsed, the
 * document's size and tokens checked before Apollo parses it, Apollo's response written as it is. No
 * web framework's routing, request decoration and response helpers stand between: this is the path
 * every query and mutation takes (see the read path in BENCHMARKS.md).
 */
export const graphqlOverHttp = (options: GraphqlHttpOptions) => {
  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? "";
    const searchAt = url.indexOf("?");
    const search = searchAt === -1 ? "" : url.slice(searchAt);
    const method = (req.method ?? "").toUpperCase();
    const body = method === "POST" ? await parsedBody(req, res) : undefined;
    if (body === refusedBody) return;
    const source = method === "GET" ? new URLSearchParams(search).get("query") : queryOf(body);
    const refused = typeof source === "string" ? checkDocument(source, options.limits) : null;
    if (refused) {
      sendJson(res, 400, { errors: [refused.toJSON()] });
      return;
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(", ") : value);
    }
    const response = await options.apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method, headers, search, body },
      context: () => options.context(req.headers.authorization),
    });
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === "complete") {
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  };

  /** The parsed JSON body (undefined when it is not JSON), or `refusedBody` once the refusal is sent. */
  const parsedBody = (req: IncomingMessage, res: ServerResponse) =>
    new Promise<unknown>((resolve) =>
      options.jsonBody(req, res, (err) => {
        if (err === undefined) return resolve((req as { body?: unknown }).body);
        answerBodyError(res, err);
        resolve(refusedBody);
      }),
    );

  const handle = (req: IncomingMessage, res: ServerResponse) =>
    void serve(req, res).catch(() => {
      // Apollo answers its own failures (as 500 with a body); this one is of the writing itself.
      if (res.headersSent) res.destroy();
      else
        sendJson(res, 500, {
          errors: [{ message: "Internal server error.", extensions: { code: ErrorCode.Internal } }],
        });
    });
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (options.around) options.around(req, res, () => handle(req, res));
    else handle(req, res);
  };
};

const refusedBody = Symbol("refused body");

const queryOf = (body: unknown): unknown =>
  typeof body === "object" && body !== null ? (body as { query?: unknown }).query : undefined;

const sendJson = (res: ServerResponse, status: number, value: unknown): void => {
  res.statusCode = status;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.end(JSON.stringify(value));
};

/**
 * The JSON error for a body the JSON parser refused (too large: 413; malformed: 400), instead of a
 * framework's HTML page.
 */
export const answerBodyError = (res: ServerResponse, err: unknown): void => {
  const status = (err as { status?: unknown } | null)?.status === 413 ? 413 : 400;
  const message = status === 413 ? "Request body too large." : "Malformed JSON body.";
  sendJson(res, status, { errors: [{ message, extensions: { code: ErrorCode.BadUserInput } }] });
};
