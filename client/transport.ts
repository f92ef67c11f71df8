import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { type FormattedExecutionResult, type GraphQLFormattedError, print } from "graphql";
import { type Client, createClient } from "graphql-ws";
import { describeNetworkError, fromGraphQLErrors, VexError, VexUnreachableError } from "./errors.js";

/**
 * How the client talks to a server: one interface, so that every consumer (the SDK's methods, `watch`,
 * the CLI, the web view, the verifier) goes through the same code, and a second implementation (e.g.
 * Server-Sent Events) can replace the default without touching them.
 */
export interface Transport {
  /** The endpoint, for messages. */
  readonly url: string;
  /** One query or mutation: its data, or a {@link VexError}. */
  execute<R, V>(
    document: TypedDocumentNode<R, V>,
    variables: V | undefined,
    signal?: AbortSignal,
  ): Promise<R>;
  /**
   * One subscription attempt: its results until the server completes it. It throws a {@link VexError}
   * for what retrying cannot fix (GraphQL errors, a refused key) and a {@link TransportDropped} for a
   * lost connection, which `watch` resumes. Aborting `signal` ends it at once, without error.
   */
  subscribe<R, V>(
    document: TypedDocumentNode<R, V>,
    variables: V | undefined,
    signal?: AbortSignal,
  ): AsyncIterableIterator<R>;
  /** Ends every subscription and releases the connection. */
  close(): Promise<void>;
}

/** A subscription's connection was lost (not refused): resuming may help. */
export class TransportDropped extends Error {
  override readonly name = "TransportDropped";
  constructor(
    readonly reason: string,
    /** True when nothing answered at all (refused, DNS, reset before the handshake). */
    readonly unreachable: boolean,
  ) {
    super(reason);
  }
}

export interface HttpWsTransportOptions {
  /** The GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql. WebSockets use the same URL as ws(s)://. */
  readonly url: string;
  /** Sent as `Authorization: Bearer <apiKey>` over HTTP and as connectionParams.authorization over WebSocket. */
  readonly apiKey?: string | undefined;
  /**
   * A WebSocket constructor. Default: the global WebSocket (browsers, Node ≥ 22). On Node 20 pass the
   * `ws` package's.
   */
  readonly webSocketImpl?: unknown;
  /** fetch for HTTP. Default: the global fetch. */
  readonly fetch?: typeof fetch;
  /** Per HTTP request. Default {@link DEFAULT_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  /**
   * The socket pings the server this often and is dropped when the pong does not come back within the
   * same time (subscriptions then resume on a new one). Default {@link DEFAULT_KEEPALIVE_MS}; 0 disables.
   */
  readonly keepAliveMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_KEEPALIVE_MS = 15_000;

/** Close codes after which resuming makes sense: going away, abnormal closure, restart, slow consumer, … */
const RETRYABLE_CLOSE_CODES = new Set([1000, 1001, 1005, 1006, 1012, 1013, 1014, 4408, 4413, 4499, 4504]);
/** Close codes that mean the credentials were refused (graphql-ws Forbidden/Unauthorized). */
const AUTH_CLOSE_CODES = new Set([4401, 4403]);
const MS_PER_SECOND = 1000;

const printed = new WeakMap<object, string>();
/** A document's text, printed once per document. */
export const source = (document: TypedDocumentNode<unknown, never>) => {
  let text = printed.get(document);
  if (text === undefined) {
    text = print(document);
    printed.set(document, text);
  }
  return text;
};

const isCloseEvent = (e: unknown): e is { code: number; reason: string } =>
  typeof e === "object" && e !== null && "code" in e && typeof e.code === "number" && "reason" in e;

const isGraphQLErrorList = (e: unknown): e is GraphQLFormattedError[] =>
  Array.isArray(e) && e.every((x) => typeof x === "object" && x !== null && "message" in x);

const closeText = (e: { code: number; reason: string }) => `${e.code}${e.reason ? ` ${e.reason}` : ""}`;

/** What graphql-ws hands a failed subscription, sorted into final (VexError) or resumable. */
const subscriptionFailure = (error: unknown): VexError | TransportDropped => {
  if (error instanceof VexError || error instanceof TransportDropped) return error;
  if (isGraphQLErrorList(error)) return fromGraphQLErrors(error);
  if (isCloseEvent(error)) {
    if (AUTH_CLOSE_CODES.has(error.code)) {
      return new VexError(
        "UNAUTHENTICATED",
        `The server refused the WebSocket connection (${closeText(error)}): the API key is missing, unknown or revoked.`,
        { extensions: { closeCode: error.code } },
      );
    }
    if (RETRYABLE_CLOSE_CODES.has(error.code)) {
      return new TransportDropped(`connection closed (${closeText(error)})`, false);
    }
    return new VexError("CONNECTION_CLOSED", `The server closed the connection (${closeText(error)}).`, {
      extensions: { closeCode: error.code },
    });
  }
  return new TransportDropped(describeNetworkError(error), true);
};

/** The WebSocket URL of an HTTP GraphQL endpoint (http→ws, https→wss). */
export const webSocketUrlOf = (url: string) => url.replace(/^http(s?):\/\//i, "ws$1://");

/** A VexError with `retryAfterMs` from the Retry-After header when the server's error did not carry it. */
const withRetryAfter = (error: VexError, res: Response): VexError => {
  const seconds = Number(res.headers.get("retry-after"));
  if (error.extensions.retryAfterMs !== undefined || !Number.isFinite(seconds) || seconds <= 0) return error;
  return new VexError(error.code, error.message, {
    extensions: { ...error.extensions, retryAfterMs: seconds * MS_PER_SECOND },
    errors: error.errors,
    status: error.status ?? res.status,
  });
};

/** What a protocol client calls with a subscription's results (graphql-ws's and graphql-sse's sink). */
export interface ResultSink<R> {
  next(result: FormattedExecutionResult<R, unknown>): void;
  error(error: unknown): void;
  complete(): void;
}

/**
 * A subscription's data, from a protocol client that pushes results into a sink: GraphQL errors
 * become a VexError, a failure is sorted by `failureOf` (final or resumable), and aborting `signal`
 * ends it at once (an async generator's return() would queue behind a pending wait).
 */
export async function* resultsOf<R>(
  start: (sink: ResultSink<R>) => () => void,
  failureOf: (error: unknown) => Error | Promise<Error>,
  signal?: AbortSignal,
): AsyncGenerator<R> {
  const queue: FormattedExecutionResult<R, unknown>[] = [];
  let failure: unknown;
  let done = false;
  let wake = () => {};
  const stop = start({
    next: (result) => {
      queue.push(result);
      wake();
    },
    error: (e) => {
      failure = e ?? "subscription failed";
      done = true;
      wake();
    },
    complete: () => {
      done = true;
      wake();
    },
  });
  const onAbort = () => wake();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for (;;) {
      for (let result = queue.shift(); result !== undefined; result = queue.shift()) {
        if (result.errors?.length) throw fromGraphQLErrors(result.errors);
        if (result.data === undefined || result.data === null) {
          throw new VexError("BAD_RESPONSE", "A subscription result carried no data.");
        }
        yield result.data;
      }
      if (failure !== undefined) throw await failureOf(failure);
      if (done || signal?.aborted) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    stop();
  }
}

/**
 * The default transport: queries and mutations over HTTP POST (so that the server's HTTP status, e.g.
 * 401 or 429 with Retry-After, reaches the caller), subscriptions over one graphql-ws WebSocket that
 * all of them share. The socket opens with the first subscription and closes after the last.
 */
/**
 * Queries and mutations over HTTP POST, shared by every transport, so that the server's HTTP status
 * (401, or 429 with Retry-After) reaches the caller.
 */
export const createHttpExecute = (
  options: Pick<HttpWsTransportOptions, "url" | "apiKey" | "fetch" | "timeoutMs">,
): Transport["execute"] => {
  const { url, apiKey } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const execute = async <R, V>(
    document: TypedDocumentNode<R, V>,
    variables: V | undefined,
    signal?: AbortSignal,
  ): Promise<R> => {
    const fetchImpl = options.fetch ?? globalThis.fetch;
    const timeout = AbortSignal.timeout(timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await fetchImpl(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/graphql-response+json, application/json",
          ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
        },
        body: JSON.stringify({ query: source(document), variables: variables ?? {} }),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      text = await res.text();
    } catch (e) {
      if (signal?.aborted) throw e;
      if (timeout.aborted) {
        throw new VexError("TIMEOUT", `The VEX server at ${url} did not answer within ${timeoutMs} ms.`, {
          cause: e,
        });
      }
      throw new VexUnreachableError(url, describeNetworkError(e), e);
    }
    let body: FormattedExecutionResult<R> | undefined;
    try {
      body = JSON.parse(text) as FormattedExecutionResult<R>;
    } catch {
      body = undefined;
    }
    if (body === undefined || typeof body !== "object" || body === null) {
      const snippet = text.trim().slice(0, 80).replace(/\s+/g, " ");
      throw new VexError(
        "BAD_RESPONSE",
        `HTTP ${res.status} from ${url} is not a GraphQL response${snippet ? `: ${snippet}` : ""}. Is this the /graphql endpoint of a VEX server?`,
        { status: res.status },
      );
    }
    if (body.errors?.length) throw withRetryAfter(fromGraphQLErrors(body.errors, res.status), res);
    if (body.data === undefined || body.data === null) {
      throw new VexError("BAD_RESPONSE", `HTTP ${res.status} from ${url} carried neither data nor errors.`, {
        status: res.status,
      });
    }
    return body.data;
  };
  return execute;
};

export const createHttpWsTransport = (options: HttpWsTransportOptions): Transport => {
  const { url, apiKey } = options;
  const keepAliveMs = options.keepAliveMs ?? DEFAULT_KEEPALIVE_MS;
  const wsUrl = webSocketUrlOf(url);
  const execute = createHttpExecute(options);
  let ws: Client | undefined;

  const openClient = (): Client => {
    const webSocketImpl = options.webSocketImpl ?? (globalThis as { WebSocket?: unknown }).WebSocket;
    if (webSocketImpl === undefined) {
      throw new VexError(
        "CONNECTION_CLOSED",
        "No WebSocket implementation: pass webSocketImpl (e.g. the ws package's WebSocket on Node 20).",
      );
    }
    let pongTimer: ReturnType<typeof setTimeout> | undefined;
    const client: Client = createClient({
      url: wsUrl,
      webSocketImpl,
      lazy: true,
      lazyCloseTimeout: 0,
      // `watch` resumes itself (with afterSeq); graphql-ws would resubscribe with the old variables.
      retryAttempts: 0,
      keepAlive: keepAliveMs,
      ...(apiKey ? { connectionParams: { authorization: `Bearer ${apiKey}` } } : {}),
      on: {
        // A ping we sent whose pong does not come back means a dead connection: drop it and resume.
        ping: (received) => {
          if (received) return;
          clearTimeout(pongTimer);
          pongTimer = setTimeout(() => client.terminate(), keepAliveMs);
        },
        pong: (received) => void (received && clearTimeout(pongTimer)),
        closed: () => clearTimeout(pongTimer),
      },
    });
    return client;
  };

  const subscribe = <R, V>(
    document: TypedDocumentNode<R, V>,
    variables: V | undefined,
    signal?: AbortSignal,
  ): AsyncIterableIterator<R> =>
    (async function* () {
      if (signal?.aborted) return;
      ws ??= openClient();
      const client = ws;
      yield* resultsOf<R>(
        (sink) =>
          client.subscribe<R>(
            { query: source(document), variables: (variables ?? {}) as Record<string, unknown> },
            sink,
          ),
        subscriptionFailure,
        signal,
      );
    })();

  return {
    url,
    execute,
    subscribe,
    close: async () => {
      const client = ws;
      ws = undefined;
      try {
        await client?.dispose();
      } catch {
        // a socket that never connected has nothing to close
      }
    },
  };
};
