import { createVexClient, type VexClient, VexError } from "../../client/index.js";

/**
 * The page's VEX client: the SDK's (client/index.ts), pointed at the server that served the page, with
 * the browser's own WebSocket for subscriptions. Everything the page reads, follows or verifies goes
 * through it.
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

/** A client for this page's server with the tab's API key. */
export const createPageClient = (apiKey: string): VexClient =>
  createVexClient({ url: graphqlUrl(), apiKey, webSocketImpl: WebSocket });

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
