import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from "@apollo/server/plugin/disabled";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import express, { type ErrorRequestHandler } from "express";
import { GraphQLError, type GraphQLSchema } from "graphql";
import { ErrorCode } from "../domain/errors.js";
import type { Tracer } from "../ports/tracing.js";
import type { GraphQLContext } from "../resolvers/context.type.js";
import type { Authenticator, Principal } from "./auth.js";
import type { ErrorFormatter } from "./errors.js";
import { answerBodyError, graphqlOverHttp } from "./graphql-http.js";
import { bodyLimitBytes, createArmor, hideSuggestions, type Limits } from "./limits.js";
import { createGraphqlSse } from "./sse.js";
import { operationSpans, traceRequests } from "./tracing.js";
import { serveUi, UI_PATH } from "./ui.js";
import { attachGraphqlWs } from "./ws.js";

export const GRAPHQL_PATH = "/graphql";
/** Subscriptions over Server-Sent Events (graphql-sse, distinct connections mode). */
export const GRAPHQL_STREAM_PATH = `${GRAPHQL_PATH}/stream`;

/**
 * Subscriptions are served over WebSocket and Server-Sent Events only. Over plain HTTP Apollo would
 * execute a subscription like a query, calling its resolvers without an event: an internal error
 * for every such request.
 */
const subscriptionsOverStreamsOnly: ApolloServerPlugin<GraphQLContext> = {
  requestDidStart: async () => ({
    didResolveOperation: async ({ operation }) => {
      if (operation?.operation === "subscription") {
        throw new GraphQLError(
          `Subscriptions are served over WebSocket (subprotocol graphql-transport-ws) at ${GRAPHQL_PATH} and over Server-Sent Events at ${GRAPHQL_STREAM_PATH}, not over plain HTTP.`,
          { extensions: { code: ErrorCode.BadRequest, http: { status: 400 } } },
        );
      }
    },
  }),
};

/** Whether a request is for GraphQL over HTTP: its path, the query string aside, is /graphql. */
const isGraphqlRequest = (url = ""): boolean => url === GRAPHQL_PATH || url.startsWith(`${GRAPHQL_PATH}?`);

export interface HttpServerOptions {
  readonly schema: GraphQLSchema;
  readonly auth: Authenticator;
  /** The context for an authenticated caller, per HTTP request and per WebSocket operation. */
  readonly context: (principal: Principal) => GraphQLContext;
  readonly formatError: ErrorFormatter;
  /** Readiness: resolves when the server can do its work (the store answers). */
  readonly ready: () => Promise<void>;
  /** Prometheus exposition for GET /metrics. */
  readonly metrics: () => Promise<{ contentType: string; body: string }>;
  readonly introspection: boolean;
  readonly production: boolean;
  readonly limits: Limits;
  /** How long shutdown waits for in-flight HTTP requests before closing their connections. */
  readonly drainTimeoutMs: number;
  /** A span per GraphQL request over HTTP; none when absent. */
  readonly tracer?: Tracer;
}

export interface HttpServer {
  readonly server: Server;
  listen(port: number, host: string): Promise<{ url: string; port: number }>;
  /** Open, authenticated WebSocket connections. */
  connections(): number;
  /** Subscriptions streaming: operations on those connections, plus Server-Sent Events streams. */
  subscriptions(): number;
  /** Stops accepting, closes WebSockets (1001), lets in-flight requests finish, closes the port. */
  stop(): Promise<void>;
}

/** JSON errors for bodies the JSON parser refused, instead of Express's HTML pages. */
const bodyErrorHandler: ErrorRequestHandler = (err, _req, res, next) => {
  if (res.headersSent) next(err);
  else answerBodyError(res, err);
};

/**
 * One HTTP server on one port: Apollo Server at /graphql (GET/POST) and graphql-ws on the same
 * path, both behind API-key authentication and GraphQL Armor's limits; Server-Sent Events at
 * /graphql/stream; /healthz (liveness), /readyz (store reachable), /metrics (Prometheus) and the web
 * view. GraphQL over HTTP is served on node:http directly (graphql-http.ts), everything else by Express.
 */
export const createHttpServer = async (options: HttpServerOptions): Promise<HttpServer> => {
  const app = express();
  app.disable("x-powered-by");
  // No ETag on res.send bodies (metrics, health): nothing makes conditional GETs of them, and Express
  // would hash each. Static UI files keep theirs: express.static sets its own.
  app.set("etag", false);
  const server = createServer();
  const jsonBody = express.json({ limit: bodyLimitBytes(options.limits) });
  const armor = createArmor(options.limits, options.production);

  // What both streaming transports check and execute with, as Apollo does on HTTP.
  const streaming = {
    schema: options.schema,
    limits: options.limits,
    auth: options.auth,
    context: options.context,
    validationRules: armor.validationRules,
    formatError: options.formatError,
    introspection: options.introspection,
    production: options.production,
  };
  const ws = attachGraphqlWs({ ...streaming, server, path: GRAPHQL_PATH });
  const sse = createGraphqlSse({ ...streaming, graphqlPath: GRAPHQL_PATH });

  const apollo = new ApolloServer<GraphQLContext>({
    schema: options.schema,
    introspection: options.introspection,
    formatError: options.production
      ? (formatted, error) => {
          const shown = options.formatError(formatted, error);
          return { ...shown, message: hideSuggestions(shown.message) };
        }
      : options.formatError,
    stopOnTerminationSignals: false,
    allowBatchedHttpRequests: false,
    // Automatic persisted queries are not offered: their cache would be per instance, and a request
    // carrying the extension gets PERSISTED_QUERY_NOT_SUPPORTED (Apollo's mismatched-hash error has no
    // code at all).
    persistedQueries: false,
    // Apollo would add stack traces to errors whenever NODE_ENV is neither production nor test.
    includeStacktraceInErrorResponses: false,
    // documentGuard counts tokens first; this is the parser's own backstop.
    parseOptions: { maxTokens: options.limits.maxTokens },
    validationRules: armor.validationRules,
    plugins: [
      // Armor's plugins are written for any context; ours only adds fields.
      ...(armor.plugins as ApolloServerPlugin<GraphQLContext>[]),
      subscriptionsOverStreamsOnly,
      ...(options.tracer ? [operationSpans] : []),
      ApolloServerPluginDrainHttpServer({
        httpServer: server,
        stopGracePeriodMillis: options.drainTimeoutMs,
      }),
      {
        serverWillStart: async () => ({
          drainServer: async () => {
            sse.dispose();
            await ws.dispose();
          },
        }),
      },
      ApolloServerPluginLandingPageDisabled(),
      // Apollo installs cache control by default, and its willResolveField hook makes Apollo wrap every
      // field resolver of the schema: that wrapping was the largest cost of a list query in the read-path
      // profile (BENCHMARKS.md, benchmark 5). No type or field carries a cache hint, so it only ever
      // computed "no caching"; GraphQL responses keep carrying no Cache-Control header.
      ApolloServerPluginCacheControlDisabled(),
    ],
  });
  await apollo.start();

  app.get("/healthz", (_req, res) => void res.json({ status: "ok" }));
  app.get("/readyz", async (_req, res) => {
    try {
      await options.ready();
      res.json({ status: "ready" });
    } catch {
      res.status(503).json({ status: "unavailable", reason: "store unreachable" });
    }
  });
  app.get("/metrics", async (_req, res) => {
    const { contentType, body } = await options.metrics();
    res.type(contentType).send(body);
  });
  app.use(UI_PATH, serveUi());
  app.use(GRAPHQL_STREAM_PATH, jsonBody, sse.handler);
  app.use(bodyErrorHandler);
  const graphql = graphqlOverHttp({
    apollo,
    jsonBody,
    limits: options.limits,
    context: async (authorization) => options.context(await options.auth.authenticate(authorization)),
    ...(options.tracer ? { around: traceRequests(options.tracer) } : {}),
  });
  server.on("request", (req, res) => (isGraphqlRequest(req.url) ? graphql(req, res) : app(req, res)));

  return {
    server,
    connections: ws.connections,
    subscriptions: () => ws.subscriptions() + sse.streams(),
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          const address = server.address() as AddressInfo;
          const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
          resolve({ url: `http://${shownHost}:${address.port}${GRAPHQL_PATH}`, port: address.port });
        });
      }),
    stop: () => apollo.stop(),
  };
};
