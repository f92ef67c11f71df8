import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { expressMiddleware } from "@as-integrations/express5";
import express from "express";
import type { ExecutionResult, GraphQLSchema } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import { ErrorCode } from "../domain/errors.js";
import type { GraphQLContext } from "./context.js";
import type { ErrorFormatter } from "./errors.js";

export const GRAPHQL_PATH = "/graphql";

export interface HttpServerOptions {
  readonly schema: GraphQLSchema;
  /** The per-request / per-socket context. */
  readonly context: () => Promise<GraphQLContext> | GraphQLContext;
  readonly formatError: ErrorFormatter;
  /** Readiness: resolves when the server can do its work (the store answers). */
  readonly ready: () => Promise<void>;
  readonly introspection: boolean;
  /** How long shutdown waits for in-flight HTTP requests before closing their connections. */
  readonly drainTimeoutMs: number;
}

export interface HttpServer {
  readonly server: Server;
  listen(port: number, host: string): Promise<{ url: string; port: number }>;
  /** Stops accepting, closes WebSockets (1001), lets in-flight requests finish, closes the port. */
  stop(): Promise<void>;
}

/**
 * One HTTP server on one port: Apollo Server at /graphql (GET/POST), graphql-ws on the same path,
 * /healthz (liveness) and /readyz (store reachable).
 */
export const createHttpServer = async (options: HttpServerOptions): Promise<HttpServer> => {
  const app = express();
  app.disable("x-powered-by");
  const server = createServer(app);

  const wss = new WebSocketServer({ server, path: GRAPHQL_PATH });
  const wsHandle = useServer(
    {
      schema: options.schema,
      context: () => options.context(),
      onNext: (_ctx, _id, _payload, _args, result) => formatResult(result, options.formatError),
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => options.formatError(e.toJSON(), e)),
    },
    wss,
  );

  const apollo = new ApolloServer<GraphQLContext>({
    schema: options.schema,
    introspection: options.introspection,
    formatError: options.formatError,
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({
        httpServer: server,
        stopGracePeriodMillis: options.drainTimeoutMs,
      }),
      { serverWillStart: async () => ({ drainServer: async () => void (await wsHandle.dispose()) }) },
      ApolloServerPluginLandingPageDisabled(),
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
  app.use(
    GRAPHQL_PATH,
    express.json(),
    expressMiddleware(apollo, { context: async () => options.context() }),
  );

  return {
    server,
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
