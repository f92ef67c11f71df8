import type { ApolloServerPlugin } from "@apollo/server";
import { context, defaultTextMapGetter, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import type { Tracer } from "../ports/tracing.js";
import type { GraphQLContext } from "../resolvers/context.type.js";
import type { Middleware } from "./graphql-http.js";

/** Span name of a GraphQL request until its operation is known. */
const UNRESOLVED_OPERATION = "graphql";
const propagator = new W3CTraceContextPropagator();

/**
 * A server span per GraphQL request over HTTP, continuing the caller's trace when it sends a W3C
 * `traceparent`. Everything the request does (a run it starts included) runs inside it, so its
 * spans are children of this one.
 */
export const traceRequests =
  (tracer: Tracer): Middleware =>
  (req, res, next) => {
    const parent = propagator.extract(context.active(), req.headers, defaultTextMapGetter);
    const span = tracer.startSpan(UNRESOLVED_OPERATION, { kind: SpanKind.SERVER }, parent);
    res.once("close", () => span.end());
    context.with(trace.setSpan(parent, span), next);
  };

/**
 * Names the request's span after its operation (`query Orchestrations`), as the GraphQL semantic
 * conventions do, and marks it failed when the response carries errors.
 */
export const operationSpans: ApolloServerPlugin<GraphQLContext> = {
  requestDidStart: async () => ({
    didResolveOperation: async ({ operation, operationName }) => {
      const span = trace.getActiveSpan();
      if (!span || !operation) return;
      span.updateName(operationName ? `${operation.operation} ${operationName}` : operation.operation);
      span.setAttributes({
        "graphql.operation.type": operation.operation,
        ...(operationName ? { "graphql.operation.name": operationName } : {}),
      });
    },
    didEncounterErrors: async ({ errors }) => {
      const code = errors[0]?.extensions?.code;
      trace.getActiveSpan()?.setStatus({
        code: SpanStatusCode.ERROR,
        message: typeof code === "string" ? code : undefined,
      });
    },
  }),
};
