import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { type FormattedExecutionResult, type GraphQLFormattedError, print } from "graphql";
import { type Client, createClient } from "graphql-ws";
import { describeNetworkError, fromGraphQLErrors, VexError, VexUnreachableError } from "./errors.js";
import {
  AgentDocument,
  type AgentFieldsFragment,
  type AgentRole,
  AgentsDocument,
  type AgentsQuery,
  CancelOrchestrationDocument,
  type EventFieldsFragment,
  OrchestrationDocument,
  OrchestrationEventLogDocument,
  OrchestrationEventsDocument,
  type OrchestrationEventsSubscription,
  type OrchestrationQuery,
  OrchestrationsDocument,
  type OrchestrationsQuery,
  type RunFieldsFragment,
  type RunStatus,
  StartOrchestrationDocument,
  type StartOrchestrationInput,
} from "./generated/graphql.js";
import { type Failure, type ReconnectInfo, type RetryOptions, resumable } from "./resume.js";

export { isVexError, VexError, type VexErrorCode, VexUnreachableError } from "./errors.js";
export type {
  AgentRole,
  AgentState,
  ConsensusProtocol,
  EvolutionMode,
  RunStatus,
  StartOrchestrationInput,
} from "./generated/graphql.js";
export type { ReconnectInfo, RetryOptions } from "./resume.js";
// The offline proof verifier (client/verify.ts) is part of the SDK.
export * from "./verify.js";

/** A run as the mutations and lists return it. */
export type Run = RunFieldsFragment;
/** A run with its agents, as `orchestration(id)` returns it. */
export type RunDetail = NonNullable<OrchestrationQuery["orchestration"]>;
export type RunPage = OrchestrationsQuery["orchestrations"];
export type Agent = AgentFieldsFragment;
export type AgentPage = AgentsQuery["agents"];
/** One stored step of a run: RunStarted, AgentStarted, DebateRoundCompleted, AgentCompleted, AgentFailed, RunFinished. */
export type RunEvent = EventFieldsFragment;
/** The event of one type, e.g. `RunEventOf<"RunFinished">`. */
export type RunEventOf<T extends RunEvent["__typename"]> = Extract<RunEvent, { __typename: T }>;

export interface VexClientOptions {
  /** The GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql. WebSockets use the same URL as ws(s)://. */
  readonly url: string;
  /** Sent as `Authorization: Bearer <apiKey>` over HTTP and as connectionParams.authorization over WebSocket. */
  readonly apiKey?: string | undefined;
  /**
   * A WebSocket constructor for subscriptions. Default: the `ws` package on Node (Node 20 has no global
   * WebSocket), the global WebSocket elsewhere.
   */
  readonly webSocketImpl?: unknown;
  /** fetch for HTTP. Default: the global fetch. */
  readonly fetch?: typeof fetch;
  /** Per HTTP request. Default 30,000 ms. */
  readonly timeoutMs?: number;
  /** How `watch` reconnects. */
  readonly retry?: RetryOptions;
  /**
   * A watch pings the server this often and drops a connection whose pong does not come back within
   * the same time (then resumes on a new one). Default 15,000 ms; 0 disables.
   */
  readonly keepAliveMs?: number;
}

export interface WatchOptions {
  /** Deliver only events after this seq (resume where you left off). Default 0. */
  readonly afterSeq?: number;
  /** Ends the iteration, releasing its socket. */
  readonly signal?: AbortSignal;
  /** Called before each resubscription after a dropped connection. */
  readonly onReconnect?: (info: ReconnectInfo) => void;
  /** Overrides the client's retry options for this watch. */
  readonly retry?: RetryOptions;
}

/** The events of one run; `return()` (or `break` in for-await) releases the socket at once. */
export interface RunWatch extends AsyncIterableIterator<RunEvent> {
  return(): Promise<IteratorResult<RunEvent>>;
}

type VariablesArg<V> = Record<string, never> extends V ? [variables?: V] : [variables: V];

export interface VexClient {
  readonly url: string;
  /** Starts a run; it returns at once (status PENDING: queued for a worker). Follow it with {@link watch}. */
  startOrchestration(input: StartOrchestrationInput): Promise<Run>;
  /** Cancels a running run; NOT_FOUND for an unknown id. */
  cancelOrchestration(id: string): Promise<Run>;
  /** A run with its agents, or null when there is none with this id (for this key's tenant). */
  orchestration(id: string): Promise<RunDetail | null>;
  /** Runs, newest first. */
  orchestrations(args?: {
    first?: number;
    after?: string | null;
    status?: RunStatus | null;
  }): Promise<RunPage>;
  /** The stored events of a run after `afterSeq` (at most 1,000 per call), or null for an unknown run. */
  eventLog(id: string, afterSeq?: number): Promise<RunEvent[] | null>;
  agent(id: string): Promise<Agent | null>;
  /** Agents, newest first. */
  agents(args?: {
    first?: number;
    after?: string | null;
    role?: AgentRole | null;
    orchestrationId?: string | null;
  }): Promise<AgentPage>;
  /**
   * A run's events, replayed from the start (or after `afterSeq`) and then live, ending after
   * RunFinished. A dropped connection is resumed with afterSeq = the last seq seen: no gap, no
   * duplicate. Fails with a {@link VexError} (UNAUTHENTICATED, NOT_FOUND, …) or, when the server stays
   * unreachable, a {@link VexUnreachableError}.
   */
  watch(orchestrationId: string, options?: WatchOptions): RunWatch;
  /** Any other generated operation (query or mutation) over HTTP. */
  request<R, V>(document: TypedDocumentNode<R, V>, ...[variables]: VariablesArg<V>): Promise<R>;
  /** Ends every open watch and releases its socket. */
  close(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_KEEPALIVE_MS = 15_000;

/** Close codes after which resuming makes sense: going away, abnormal closure, restart, slow consumer, … */
const RETRYABLE_CLOSE_CODES = new Set([1000, 1001, 1005, 1006, 1012, 1013, 1014, 4408, 4413, 4499, 4504]);
/** Close codes that mean the credentials were refused (graphql-ws Forbidden/Unauthorized). */
const AUTH_CLOSE_CODES = new Set([4401, 4403]);

const printed = new WeakMap<object, string>();
const source = (document: TypedDocumentNode<unknown, never>) => {
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

/** How a failed subscription is handled: GraphQL errors and refusals are final; dropped sockets are resumed. */
const classify = (error: unknown): Failure => {
  if (error instanceof VexError) return error;
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
      return { retry: `connection closed (${closeText(error)})`, unreachable: false };
    }
    return new VexError("CONNECTION_CLOSED", `The server closed the connection (${closeText(error)}).`, {
      extensions: { closeCode: error.code },
    });
  }
  return { retry: describeNetworkError(error), unreachable: true };
};

const resolveWebSocketImpl = async (impl: unknown): Promise<unknown> => {
  if (impl !== undefined) return impl;
  if (typeof process !== "undefined" && process.versions?.node !== undefined) {
    return (await import("ws")).default;
  }
  const global = (globalThis as { WebSocket?: unknown }).WebSocket;
  if (global !== undefined) return global;
  throw new VexError(
    "CONNECTION_CLOSED",
    "No WebSocket implementation: pass webSocketImpl to createVexClient.",
  );
};

const disposeQuietly = async (client: Client | undefined) => {
  try {
    await client?.dispose();
  } catch {
    // a socket that never connected has nothing to close
  }
};

/** The WebSocket URL of an HTTP GraphQL endpoint (http→ws, https→wss). */
export const webSocketUrlOf = (url: string) => url.replace(/^http(s?):\/\//i, "ws$1://");

/** A typed client for one VEX server. It holds no connection until `watch` is called. */
export const createVexClient = (options: VexClientOptions): VexClient => {
  const { url, apiKey } = options;
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const keepAliveMs = options.keepAliveMs ?? DEFAULT_KEEPALIVE_MS;
  const wsUrl = webSocketUrlOf(url);
  const watches = new Set<AbortController>();

  const request = async <R, V>(document: TypedDocumentNode<R, V>, variables?: V): Promise<R> => {
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
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await res.text();
    } catch (e) {
      if (e instanceof Error && e.name === "TimeoutError") {
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
    if (body.errors?.length) throw fromGraphQLErrors(body.errors, res.status);
    if (body.data === undefined || body.data === null) {
      throw new VexError("BAD_RESPONSE", `HTTP ${res.status} from ${url} carried neither data nor errors.`, {
        status: res.status,
      });
    }
    return body.data;
  };

  const watch = (orchestrationId: string, watchOptions: WatchOptions = {}): RunWatch => {
    const controller = new AbortController();
    watches.add(controller);
    const outer = watchOptions.signal;
    const onOuterAbort = () => controller.abort();
    if (outer?.aborted) controller.abort();
    else outer?.addEventListener("abort", onOuterAbort, { once: true });
    const { signal } = controller;
    let ws: Client | undefined;

    const openClient = async (): Promise<Client> => {
      const webSocketImpl = await resolveWebSocketImpl(options.webSocketImpl);
      let pongTimer: ReturnType<typeof setTimeout> | undefined;
      const client: Client = createClient({
        url: wsUrl,
        webSocketImpl,
        lazy: true,
        lazyCloseTimeout: 0,
        // This SDK resumes itself (with afterSeq); graphql-ws would resubscribe with the old variables.
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

    const subscribe = (afterSeq: number): AsyncIterator<RunEvent> =>
      (async function* () {
        ws ??= await openClient();
        if (signal.aborted) return;
        const results = ws.iterate<OrchestrationEventsSubscription>({
          query: source(OrchestrationEventsDocument),
          variables: { orchestrationId, afterSeq },
        });
        for await (const result of results) {
          if (result.errors?.length) throw fromGraphQLErrors(result.errors);
          const event = result.data?.orchestrationEvents;
          if (!event) throw new VexError("BAD_RESPONSE", "A subscription result carried no event.");
          yield event;
        }
      })();

    const events = resumable(subscribe, {
      ...(watchOptions.afterSeq === undefined ? {} : { afterSeq: watchOptions.afterSeq }),
      ...(watchOptions.onReconnect ? { onReconnect: watchOptions.onReconnect } : {}),
      retry: { ...options.retry, ...watchOptions.retry },
      signal,
      isLast: (e) => e.__typename === "RunFinished",
      classify,
      giveUp: (reason, unreachable, attempts) =>
        unreachable
          ? new VexUnreachableError(wsUrl, `${reason} (gave up after ${attempts} retries)`)
          : new VexError(
              "CONNECTION_CLOSED",
              `Lost the event stream: ${reason} (gave up after ${attempts} retries).`,
            ),
    });

    const release = async () => {
      controller.abort();
      outer?.removeEventListener("abort", onOuterAbort);
      watches.delete(controller);
      await disposeQuietly(ws);
    };
    // Aborting disposes the socket, which ends a pending next(); the generator then returns.
    signal.addEventListener("abort", () => void disposeQuietly(ws), { once: true });

    const iterator: RunWatch = {
      async next() {
        try {
          const result = await events.next();
          if (result.done) await release();
          return result;
        } catch (e) {
          await release();
          throw e;
        }
      },
      async return() {
        await release();
        await events.return(undefined);
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    return iterator;
  };

  return {
    url,
    startOrchestration: async (input) =>
      (await request(StartOrchestrationDocument, { input })).startOrchestration,
    cancelOrchestration: async (id) =>
      (await request(CancelOrchestrationDocument, { id })).cancelOrchestration,
    orchestration: async (id) => (await request(OrchestrationDocument, { id })).orchestration,
    orchestrations: async (args = {}) => (await request(OrchestrationsDocument, args)).orchestrations,
    eventLog: async (id, afterSeq) =>
      (await request(OrchestrationEventLogDocument, { id, ...(afterSeq === undefined ? {} : { afterSeq }) }))
        .orchestration?.events ?? null,
    agent: async (id) => (await request(AgentDocument, { id })).agent,
    agents: async (args = {}) => (await request(AgentsDocument, args)).agents,
    watch,
    request: (document, ...[variables]) => request(document, variables),
    close: async () => {
      const open = [...watches];
      for (const c of open) c.abort();
      watches.clear();
    },
  };
};
