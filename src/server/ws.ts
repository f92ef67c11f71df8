import type { IncomingMessage, Server } from "node:http";
import { GraphQLError, type GraphQLSchema, type ValidationRule } from "graphql";
import {
  CloseCode,
  type Context,
  handleProtocols,
  MessageType,
  makeServer,
  type SubscribePayload,
} from "graphql-ws";
import { WebSocket, WebSocketServer } from "ws";
import { ErrorCode } from "../domain/errors.js";
import type { GraphQLContext } from "../resolvers/context.type.js";
import { type Authenticator, type Principal, UNAUTHENTICATED } from "./auth.js";
import { type ErrorFormatter, isGraphQLError } from "./errors.js";
import type { Limits } from "./limits.js";
import { checkOperation, formatResult, messageShown, validationRulesOf } from "./operation.js";
import {
  createNextFrames,
  createSharedExecution,
  type NextFrames,
  serialisedPayloadOf,
} from "./shared-results.js";
import { createWriteBatch } from "./write-batch.js";

/**
 * Close codes of this server. graphql-ws's own: 4400 invalid message, 4401 subscribe before
 * connection_ack, 4406 subprotocol not graphql-transport-ws, 4408 no connection_init in time,
 * 4409 duplicate operation id, 4429 second connection_init, 4500 internal error. The `ws` library's:
 * 1009 frame larger than the payload limit. Ours follow.
 */
/** Missing, unknown or revoked API key (at connection_init, or later when the key is revoked). */
export const CLOSE_KEY_REVOKED = 4403;
/** The client reads too slowly: more than wsMaxBufferedBytes is waiting to be sent to it. */
export const CLOSE_SLOW_CONSUMER = 4413;
/** Server going away (shutdown). */
const CLOSE_GOING_AWAY = 1001;

/** How long a socket closed for reading too slowly may take to finish the close handshake. */
const SLOW_CONSUMER_CLOSE_GRACE_MS = 5_000;
/** How long shutdown waits for sockets to finish the close handshake before cutting them. */
const SHUTDOWN_CLOSE_GRACE_MS = 1_000;
/**
 * Most bytes a socket's writes are held back to be written together (see `createWriteBatch`); more
 * is written at once, so that a burst is never mistaken for a slow reader.
 */
const WRITE_BATCH_MAX_BYTES = 64 * 1024;

/** Messages only a server may send; a client sending one breaks the protocol (4400, not 4500). */
const SERVER_ONLY_MESSAGES = new Set<string>([
  MessageType.ConnectionAck,
  MessageType.Next,
  MessageType.Error,
]);

interface Extra {
  readonly socket: WebSocket;
  readonly request: IncomingMessage;
  principal?: Principal;
  /** Ids of this socket's admitted operations, for the per-socket cap. */
  readonly admitted: Set<string>;
  /** This socket's `next` messages whose payload is shared with other subscribers. */
  readonly frames: NextFrames;
}
type ConnectionContext = Context<Record<string, unknown> | undefined, Extra>;

export interface WsOptions {
  readonly server: Server;
  readonly path: string;
  readonly schema: GraphQLSchema;
  readonly limits: Limits;
  readonly auth: Authenticator;
  readonly context: (principal: Principal) => GraphQLContext;
  /** Armor's validation rules, as on HTTP. */
  readonly validationRules: readonly ValidationRule[];
  readonly formatError: ErrorFormatter;
  /** Whether __schema / __type may be queried (as on HTTP). */
  readonly introspection: boolean;
  /** Production hides "Did you mean …?" suggestions (as on HTTP). */
  readonly production: boolean;
}

/**
 * graphql-ws (the protocol core, `makeServer`) on the HTTP server's path, with our own socket glue
 * instead of graphql-ws's `useServer` so that every limit is enforced here:
 * - authentication in onConnect (refusal: 4403) and re-checks that close sockets whose key was revoked;
 * - the same document limits, introspection rule, error codes and suggestion hiding as HTTP;
 * - a cap on operations in flight per socket (the extra one gets CONCURRENCY_LIMITED);
 * - frames above wsMaxPayloadBytes close with 1009; no connection_init in time closes with 4408;
 * - keep-alive: a ping every wsKeepAliveMs; a peer that has not answered the previous ping is cut;
 * - a hard bound on data queued for a slow reader: sends never wait for the reader, so nothing
 *   queues upstream (event bus, replay), and once more than wsMaxBufferedBytes waits in the socket
 *   the socket is closed with 4413 and its operations are stopped at once;
 * - subscriptions with the same document, variables and principal share each event's execution and
 *   serialisation (shared-results.ts): fan-out to many subscribers of one run costs one execution
 *   per event, not one per subscriber.
 */
export const attachGraphqlWs = (
  options: WsOptions,
): { dispose(): Promise<void>; connections(): number; subscriptions(): number } => {
  const { limits } = options;
  const wss = new WebSocketServer({
    server: options.server,
    path: options.path,
    maxPayload: limits.wsMaxPayloadBytes,
    handleProtocols: (protocols) => handleProtocols(protocols),
  });
  // The HTTP server's own errors are re-emitted here; listen() reports them, so only keep them from
  // becoming an unhandled 'error' event.
  wss.on("error", () => undefined);
  const open = new Set<ConnectionContext>();
  const rules = validationRulesOf(options);
  /** Internal errors are masked (and reported) by the formatter; this only reports them. */
  const report = (error: unknown) => void options.formatError({ message: "" }, error);
  const shown = messageShown(options.production);
  const shared = createSharedExecution((result) => formatResult(result, options.formatError, shown));

  const server = makeServer<Record<string, unknown> | undefined, Extra>({
    schema: options.schema,
    subscribe: shared.subscribe,
    connectionInitWaitTimeout: limits.wsInitTimeoutMs,
    onConnect: async (ctx) => {
      try {
        ctx.extra.principal = await options.auth.authenticate(ctx.connectionParams?.authorization);
      } catch {
        return false;
      }
      // The socket may have closed while the key was checked; graphql-ws has then already called
      // onClose, so adding it now would keep it (and count it) forever.
      if (ctx.extra.socket.readyState !== WebSocket.OPEN) return false;
      open.add(ctx);
      return true;
    },
    onClose: (ctx) => void open.delete(ctx),
    onSubscribe: async (ctx, id, payload) => {
      const principal = ctx.extra.principal;
      if (principal === undefined || !(await options.auth.stillValid(principal))) {
        ctx.extra.socket.close(CLOSE_KEY_REVOKED, "Forbidden");
        return [new GraphQLError("Forbidden.", { extensions: { code: UNAUTHENTICATED } })];
      }
      // Checked and recorded with no await in between, so concurrent subscribes cannot overshoot.
      if (ctx.extra.admitted.size >= limits.wsMaxSubscriptions) {
        return [
          new GraphQLError(`At most ${limits.wsMaxSubscriptions} operations may run at once on one socket.`, {
            extensions: { code: ErrorCode.ConcurrencyLimited, limit: limits.wsMaxSubscriptions },
          }),
        ];
      }
      const checked = checkOperation(payload.query, options, rules);
      if ("errors" in checked) return [...checked.errors];
      ctx.extra.admitted.add(id);
      const args = {
        schema: options.schema,
        document: checked.document,
        variableValues: payload.variables,
        operationName: payload.operationName,
        contextValue: options.context(principal),
      };
      shared.share(args, shareKey(principal, payload));
      return args;
    },
    onComplete: (ctx, id) => void ctx.extra.admitted.delete(id),
    onNext: (ctx, id, _payload, _args, result) => {
      const payloadJson = serialisedPayloadOf(result);
      // A shared result was formatted (and serialised) once for all its subscribers.
      return payloadJson === undefined
        ? formatResult(result, options.formatError, shown)
        : ctx.extra.frames.standIn(id, payloadJson);
    },
    // Errors returned from onSubscribe, and errors thrown while iterating a subscription (which
    // graphql-ws wraps in a GraphQLError): the formatter must see the thrown error to mask it.
    onError: (ctx, id, _payload, errors) => {
      ctx.extra.admitted.delete(id);
      return errors.map((e) => {
        const cause = e.originalError;
        const thrown = cause !== undefined && cause !== null && !isGraphQLError(cause) ? cause : e;
        const formatted = options.formatError(e.toJSON(), thrown);
        return { ...formatted, message: shown(formatted.message) };
      });
    },
  });

  wss.on("connection", (socket, request) => {
    let ended = false;
    let closed: ((code?: number, reason?: string) => Promise<void>) | undefined;
    /** Ends the graphql-ws side (stops every operation of the socket), once. */
    const end = (code: number, reason: string) => {
      if (ended) return;
      ended = true;
      clearInterval(keepAlive);
      void closed?.(code, reason).catch(report);
    };

    // Client-caused socket errors (an oversized frame, a protocol violation) already close the
    // socket with the right code (e.g. 1009); a listener must exist so they never crash the process.
    socket.on("error", () => undefined);

    let awaitingPong = false;
    const keepAlive = setInterval(() => {
      if (socket.readyState !== WebSocket.OPEN) return;
      if (awaitingPong) {
        socket.terminate();
        return;
      }
      awaitingPong = true;
      socket.ping();
    }, limits.wsKeepAliveMs);
    socket.on("pong", () => {
      awaitingPong = false;
    });

    const closeSlowConsumer = () => {
      socket.close(CLOSE_SLOW_CONSUMER, "Slow consumer: too much data buffered");
      const cut = setTimeout(() => socket.terminate(), SLOW_CONSUMER_CLOSE_GRACE_MS);
      cut.unref();
      socket.once("close", () => clearTimeout(cut));
      end(CLOSE_SLOW_CONSUMER, "Slow consumer");
    };

    const frames = createNextFrames();
    const batch = createWriteBatch(request.socket);
    const batchLimit = Math.min(WRITE_BATCH_MAX_BYTES, limits.wsMaxBufferedBytes);
    closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) => {
          const message = frames.resolve(data);
          if (socket.readyState !== WebSocket.OPEN) return Promise.resolve();
          batch.hold();
          socket.send(message);
          if (socket.bufferedAmount >= batchLimit) batch.flush();
          if (socket.bufferedAmount > limits.wsMaxBufferedBytes) {
            closeSlowConsumer();
            return Promise.resolve();
          }
          // Never wait for the reader (that would queue upstream, unbounded for live events); but
          // while something is buffered, yield to I/O so a reader that keeps up can drain it. Data
          // held by the batch is not the reader's doing: it is written at the end of this tick.
          return batch.holding() || socket.bufferedAmount === 0
            ? Promise.resolve()
            : new Promise((r) => setImmediate(r));
        },
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on("message", async (data) => {
            // Once the socket is being closed (slow consumer) its operations are stopped; frames
            // still arriving must not start new ones that nothing would ever stop.
            if (ended) return;
            const text = String(data);
            if (SERVER_ONLY_MESSAGES.has(messageType(text) ?? "")) {
              socket.close(CloseCode.BadRequest, "Invalid message received");
              return;
            }
            try {
              await handle(text);
            } catch (err) {
              report(err);
              socket.close(CloseCode.InternalServerError, "Internal server error");
            }
          }),
      },
      { socket, request, admitted: new Set(), frames },
    );
    socket.once("close", (code, reason) => end(code, String(reason)));
  });

  const recheck = setInterval(async () => {
    // One lookup per key per tick, however many sockets share it: validity depends on the key alone
    // (keyId null: the development default), and a lookup per socket cost a file stat or a database
    // query per connection every second (BENCHMARKS.md, benchmark 4).
    const verdicts = new Map<string | null, Promise<boolean>>();
    for (const ctx of open) {
      const principal = ctx.extra.principal;
      if (!principal) continue;
      let valid = verdicts.get(principal.keyId);
      if (valid === undefined) {
        valid = options.auth.stillValid(principal).catch(() => true);
        verdicts.set(principal.keyId, valid);
      }
      if (!(await valid)) {
        ctx.extra.socket.close(CLOSE_KEY_REVOKED, "Forbidden: API key revoked");
        open.delete(ctx);
      }
    }
  }, limits.keyRecheckMs);
  recheck.unref();

  return {
    connections: () => open.size,
    subscriptions: () => {
      let n = 0;
      for (const ctx of open) n += ctx.extra.admitted.size;
      return n;
    },
    dispose: async () => {
      clearInterval(recheck);
      for (const socket of wss.clients) socket.close(CLOSE_GOING_AWAY, "Going away");
      const cut = setTimeout(() => {
        for (const socket of wss.clients) socket.terminate();
      }, SHUTDOWN_CLOSE_GRACE_MS);
      await new Promise<void>((resolve, reject) => wss.close((err) => (err ? reject(err) : resolve())));
      clearTimeout(cut);
    },
  };
};

/**
 * Which subscriptions may share an event's result (shared-results.ts): the same document, operation
 * and variables, for the same principal. The context is built from the principal alone (and the
 * schema is the server's), so nothing else an execution depends on can differ between them; two
 * tenants, or two keys of one tenant, never share. Only subscriptions look it up.
 */
const shareKey = (principal: Principal, payload: SubscribePayload): string =>
  JSON.stringify([
    principal.tenantId,
    principal.keyId,
    payload.query,
    payload.operationName ?? null,
    payload.variables ?? null,
  ]);

/** The `type` of a JSON message, if it has a string one. */
const messageType = (text: string): string | undefined => {
  try {
    const type: unknown = (JSON.parse(text) as { type?: unknown } | null)?.type;
    return typeof type === "string" ? type : undefined;
  } catch {
    return undefined;
  }
};
