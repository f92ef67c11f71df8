import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { type FormattedExecutionResult, print } from "graphql";
import { type Client, createClient } from "graphql-ws";
import WebSocket from "ws";
import {
  OrchestrationEventsDocument,
  type OrchestrationEventsSubscriptionVariables,
} from "../../client/generated/graphql.js";

/** POSTs an operation and returns the raw result (data and errors) with the HTTP status. */
export const execute = async <R, V>(
  url: string,
  document: TypedDocumentNode<R, V>,
  variables?: V,
  headers: Record<string, string> = {},
): Promise<FormattedExecutionResult<R> & { status: number }> => {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query: print(document), variables }),
  });
  return { ...((await res.json()) as FormattedExecutionResult<R>), status: res.status };
};

/** POSTs an operation and returns its data, failing on any error. */
export const request = async <R, V>(
  url: string,
  document: TypedDocumentNode<R, V>,
  variables?: V,
  headers: Record<string, string> = {},
): Promise<R> => {
  const result = await execute(url, document, variables, headers);
  if (result.errors?.length || !result.data)
    throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
  return result.data;
};

/** The official graphql-ws client over a real socket, without reconnects; `key` goes in connectionParams. */
export const wsClient = (wsUrl: string, key?: string): Client =>
  createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
    ...(key ? { connectionParams: { authorization: `Bearer ${key}` } } : {}),
  });

/** Runs a subscription to completion and returns every payload, or rejects on error. */
export const collect = async <R, V>(client: Client, document: TypedDocumentNode<R, V>, variables: V) => {
  const results: FormattedExecutionResult<R>[] = [];
  for await (const r of client.iterate({
    query: print(document),
    variables: variables as Record<string, unknown>,
  })) {
    results.push(r as FormattedExecutionResult<R>);
  }
  return results;
};

/**
 * A run's event stream (orchestrationEvents) on a client of its own, read until the run ends: every
 * payload, errors included.
 */
export const runEvents = async (wsUrl: string, variables: OrchestrationEventsSubscriptionVariables) => {
  const client = wsClient(wsUrl);
  try {
    return await collect(client, OrchestrationEventsDocument, variables);
  } finally {
    await client.dispose();
  }
};
