import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import type { GraphQLFormattedError } from "graphql";
import { createClient, NetworkError } from "graphql-sse";
import { describeNetworkError, fromGraphQLErrors, VexError } from "./errors.js";
import {
  createHttpExecute,
  type HttpWsTransportOptions,
  resultsOf,
  source,
  type Transport,
  TransportDropped,
} from "./transport.js";

export interface HttpSseTransportOptions
  extends Pick<HttpWsTransportOptions, "url" | "apiKey" | "fetch" | "timeoutMs"> {
  /** The server's Server-Sent Events endpoint. Default: the GraphQL endpoint followed by /stream. */
  readonly streamUrl?: string;
}

/** Path of the Server-Sent Events endpoint under the GraphQL endpoint. */
export const STREAM_PATH_SUFFIX = "/stream";
const HTTP_UNAUTHORIZED = 401;
const HTTP_BAD_REQUEST = 400;

/** What graphql-sse hands a failed subscription, sorted into final (VexError) or resumable. */
const streamFailure = async (error: unknown): Promise<VexError | TransportDropped> => {
  if (error instanceof VexError || error instanceof TransportDropped) return error;
  if (error instanceof NetworkError && error.response !== undefined) {
    const { status } = error.response;
    const body = (await error.response.json().catch(() => undefined)) as
      | { errors?: GraphQLFormattedError[] }
      | undefined;
    if (body?.errors?.length) return fromGraphQLErrors(body.errors, status);
    if (status === HTTP_UNAUTHORIZED) {
      return new VexError(
        "UNAUTHENTICATED",
        "The server refused the stream: the API key is missing, unknown or revoked.",
        {
          status,
        },
      );
    }
    if (status >= HTTP_BAD_REQUEST && status < 500) {
      return new VexError("BAD_RESPONSE", `HTTP ${status} from the stream endpoint.`, { status });
    }
    return new TransportDropped(`HTTP ${status} from the stream endpoint`, false);
  }
  return new TransportDropped(describeNetworkError(error), error instanceof TypeError);
};

/**
 * Queries and mutations over HTTP POST (as the default transport), subscriptions over Server-Sent
 * Events (graphql-sse, one request per subscription): for networks that do not let WebSockets
 * through. `watch` resumes with afterSeq after a dropped stream, as over WebSocket.
 */
export const createHttpSseTransport = (options: HttpSseTransportOptions): Transport => {
  const { url, apiKey } = options;
  const execute = createHttpExecute(options);
  const client = createClient({
    url: options.streamUrl ?? `${url}${STREAM_PATH_SUFFIX}`,
    headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
    // `watch` resumes itself (with afterSeq); graphql-sse would resubscribe with the old variables.
    retryAttempts: 0,
    ...(options.fetch ? { fetchFn: options.fetch } : {}),
  });

  const subscribe = <R, V>(
    document: TypedDocumentNode<R, V>,
    variables: V | undefined,
    signal?: AbortSignal,
  ): AsyncIterableIterator<R> =>
    (async function* () {
      if (signal?.aborted) return;
      yield* resultsOf<R>(
        (sink) =>
          client.subscribe<R>(
            { query: source(document), variables: (variables ?? {}) as Record<string, unknown> },
            sink as Parameters<typeof client.subscribe<R>>[1],
          ),
        streamFailure,
        signal,
      );
    })();

  return {
    url,
    execute,
    subscribe,
    close: async () => client.dispose(),
  };
};
