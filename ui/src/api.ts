import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { type FormattedExecutionResult, type GraphQLFormattedError, print } from "graphql";
import { type Client, createClient } from "graphql-ws";
import { fromGraphQLErrors, VexError } from "../../client/errors.js";

/**
 * The page's GraphQL transport: HTTP (fetch) for queries and mutations, graphql-ws over the browser's
 * WebSocket for subscriptions, both to the server that served the page. Documents are the generated
 * TypedDocumentNodes of client/generated; nothing here writes a query string by hand.
 */

const KEY_STORAGE = "vex.apiKey";

/** The API key of this browser tab (sessionStorage: gone when the tab closes). */
export const loadApiKey = (): string => {
  try {
    return sessionStorage.getItem(KEY_STORAGE) ?? "";
  } catch {
    return "";
  }
};

export const storeApiKey = (key: string): void => {
  try {
    if (key) sessionStorage.setItem(KEY_STORAGE, key);
    else sessionStorage.removeItem(KEY_STORAGE);
  } catch {
    // Storage disabled: the key lives as long as the page.
  }
};

export const graphqlUrl = (): string => new URL("/graphql", window.location.origin).href;
const wsUrl = (): string => graphqlUrl().replace(/^http/, "ws");

const authorization = (apiKey: string): Record<string, string> =>
  apiKey ? { authorization: `Bearer ${apiKey}` } : {};

const isAbort = (e: unknown) => e instanceof DOMException && e.name === "AbortError";

/** POSTs an operation; resolves with its data or rejects with a {@link VexError}. */
export const request = async <R, V>(
  apiKey: string,
  document: TypedDocumentNode<R, V>,
  variables: V,
  signal?: AbortSignal,
): Promise<R> => {
  let res: Response;
  try {
    res = await fetch(graphqlUrl(), {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/graphql-response+json, application/json",
        ...authorization(apiKey),
      },
      body: JSON.stringify({ query: print(document), variables }),
      ...(signal ? { signal } : {}),
    });
  } catch (e) {
    if (isAbort(e)) throw e;
    throw new VexError(
      "SERVER_UNREACHABLE",
      `The VEX server at ${window.location.origin} cannot be reached (${e instanceof Error ? e.message : String(e)}).`,
      { cause: e },
    );
  }
  let body: FormattedExecutionResult<R>;
  try {
    body = (await res.json()) as FormattedExecutionResult<R>;
  } catch (e) {
    if (isAbort(e)) throw e;
    throw new VexError("BAD_RESPONSE", `HTTP ${res.status} ${res.statusText}: not a GraphQL response.`, {
      status: res.status,
    });
  }
  if (body.errors?.length) {
    const err = fromGraphQLErrors(body.errors, res.status);
    const retryAfter = Number(res.headers.get("retry-after"));
    if (err.extensions.retryAfterMs === undefined && Number.isFinite(retryAfter) && retryAfter > 0) {
      throw new VexError(err.code, err.message, {
        extensions: { ...err.extensions, retryAfterMs: retryAfter * 1000 },
        errors: err.errors,
        status: res.status,
      });
    }
    throw err;
  }
  if (!body.data) throw new VexError("BAD_RESPONSE", `HTTP ${res.status}: a response without data.`);
  return body.data;
};

/** WebSocket close codes this server uses for refused or revoked keys (see src/server/ws.ts). */
const CLOSE_FORBIDDEN = 4403;

/** A VexError for whatever graphql-ws hands a sink's `error`: GraphQL errors, a CloseEvent, or an Error. */
export const subscriptionError = (e: unknown): VexError => {
  if (e instanceof VexError) return e;
  if (Array.isArray(e)) return fromGraphQLErrors(e as GraphQLFormattedError[]);
  if (typeof e === "object" && e !== null && "code" in e && typeof e.code === "number") {
    const code = e.code;
    const reason = "reason" in e && typeof e.reason === "string" && e.reason ? e.reason : "";
    if (code === CLOSE_FORBIDDEN)
      return new VexError("UNAUTHENTICATED", `The server refused the WebSocket: ${reason || "Forbidden"}.`);
    if (code === 1006 || code === 1001 || code === 1011 || code === 1012 || code === 1013)
      return new VexError(
        "SERVER_UNREACHABLE",
        `The live connection to ${window.location.origin} was lost (WebSocket close ${code}${reason ? `: ${reason}` : ""}).`,
      );
    return new VexError("CONNECTION_CLOSED", `WebSocket closed (${code}${reason ? `: ${reason}` : ""}).`);
  }
  if (e instanceof Error) return new VexError("SERVER_UNREACHABLE", e.message, { cause: e });
  return new VexError("CONNECTION_CLOSED", "The live connection failed.");
};

let shared: { key: string; client: Client } | undefined;

/** One graphql-ws client per API key, created on first use and replaced when the key changes. */
const wsClient = (apiKey: string): Client => {
  if (shared?.key === apiKey) return shared.client;
  void shared?.client.dispose();
  const client = createClient({
    url: wsUrl(),
    lazy: true,
    lazyCloseTimeout: 3_000,
    keepAlive: 15_000,
    retryAttempts: 3,
    // A refused key will not get better by retrying.
    shouldRetry: (e) => !(typeof e === "object" && e !== null && "code" in e && e.code === CLOSE_FORBIDDEN),
    connectionParams: () => authorization(apiKey),
  });
  shared = { key: apiKey, client };
  return client;
};

export interface SubscriptionHandlers<R> {
  next(data: R): void;
  error(e: VexError): void;
  complete?(): void;
}

/** Starts a subscription; returns the function that stops it. */
export const subscribe = <R, V>(
  apiKey: string,
  document: TypedDocumentNode<R, V>,
  variables: V,
  handlers: SubscriptionHandlers<R>,
): (() => void) => {
  let done = false;
  const stop = wsClient(apiKey).subscribe<R>(
    { query: print(document), variables: variables as Record<string, unknown> },
    {
      next: (result) => {
        if (done) return;
        if (result.errors?.length) handlers.error(fromGraphQLErrors(result.errors));
        else if (result.data) handlers.next(result.data);
      },
      error: (e) => {
        if (done) return;
        done = true;
        handlers.error(subscriptionError(e));
      },
      complete: () => {
        if (done) return;
        done = true;
        handlers.complete?.();
      },
    },
  );
  return () => {
    done = true;
    stop();
  };
};

/** What a person should read for an error: a title, the server's words, and what to do. */
export interface ErrorView {
  readonly code: string;
  readonly title: string;
  readonly message: string;
  readonly hint?: string;
  /** True when a (different) API key would help. */
  readonly needsKey: boolean;
}

export const describeError = (e: unknown): ErrorView => {
  if (!(e instanceof VexError)) {
    const message = e instanceof Error ? e.message : String(e);
    return { code: "ERROR", title: "Something went wrong", message, needsKey: false };
  }
  const { code, message } = e;
  const status = e.status === undefined ? "" : ` (HTTP ${e.status})`;
  switch (code) {
    case "UNAUTHENTICATED":
      return {
        code,
        title: `Not authorised${status || " (401)"} · UNAUTHENTICATED`,
        message,
        hint: "Enter an API key of your tenant (create one with `vex keys create --tenant <id>`).",
        needsKey: true,
      };
    case "SERVER_UNREACHABLE":
      return {
        code,
        title: "Server unreachable",
        message,
        hint: "Is the server running? Start it with `npm start`, then try again.",
        needsKey: false,
      };
    case "RATE_LIMITED": {
      const ms = Number(e.extensions.retryAfterMs);
      return {
        code,
        title: `Rate limited${status} · RATE_LIMITED`,
        message,
        hint:
          Number.isFinite(ms) && ms > 0 ? `Try again in ${Math.ceil(ms / 1000)} s.` : "Try again shortly.",
        needsKey: false,
      };
    }
    case "CONCURRENCY_LIMITED":
      return {
        code,
        title: "Too many runs at once · CONCURRENCY_LIMITED",
        message,
        hint: "Wait for a running run to finish, or cancel one.",
        needsKey: false,
      };
    case "BAD_USER_INPUT":
      return { code, title: "Invalid input", message, needsKey: false };
    case "NOT_FOUND":
      return { code, title: "Not found", message, needsKey: false };
    case "SHUTTING_DOWN":
      return {
        code,
        title: "Server shutting down",
        message,
        hint: "Try again once it is back.",
        needsKey: false,
      };
    case "BAD_RESPONSE":
      return { code, title: "Unexpected response", message, needsKey: false };
    default:
      return { code, title: `Error · ${code}${status}`, message, needsKey: false };
  }
};
