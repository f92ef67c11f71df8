import { context, type Tracer } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import type { SpanExporter } from "@opentelemetry/sdk-trace";
import { INSTRUMENTATION_SCOPE } from "../../ports/tracing.js";

/** What the server's configuration says about traces (the standard OTEL_* variables). */
export type TracingOptions =
  | { readonly kind: "off" }
  | {
      readonly kind: "otlp";
      /** The traces endpoint itself (…/v1/traces). */
      readonly url: string;
      readonly protocol: "http/protobuf" | "http/json";
      readonly headers: Readonly<Record<string, string>>;
      readonly serviceName: string;
      /** Whether spans may carry prompts and answers. */
      readonly content: boolean;
    };

export interface Tracing {
  /** Absent when tracing is off: then nothing is traced, at no cost. */
  readonly tracer: Tracer | undefined;
  /** Whether spans may carry prompts and answers (VEX_TRACE_CONTENT). */
  readonly content: boolean;
  /** Exports what is still buffered, then stops. */
  shutdown(): Promise<void>;
}

const OFF: Tracing = {
  tracer: undefined,
  content: false,
  shutdown: async () => undefined,
};

let contextManagerInstalled = false;
/**
 * Parent and child spans follow the async call chain through AsyncLocalStorage. The context manager
 * is process-wide (OpenTelemetry keeps one); it is installed once, by the first server that traces.
 */
const installContextManager = () => {
  if (contextManagerInstalled) return;
  contextManagerInstalled = context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
};

/**
 * OpenTelemetry tracing as configured by the standard OTEL_* variables: an OTLP/HTTP exporter
 * (http/protobuf or http/json) behind a batching processor, on a provider of this server's own
 * (never the global one, so that several servers in one process keep their exporters apart). The
 * SDK and exporters are loaded only when tracing is on.
 */
export const openTracing = async (config: TracingOptions): Promise<Tracing> => {
  if (config.kind === "off") return OFF;
  const [
    { OTLPTraceExporter: OtlpJsonExporter },
    { OTLPTraceExporter: OtlpProtobufExporter },
    { resourceFromAttributes },
    { BatchSpanProcessor, TracerProvider },
  ] = await Promise.all([
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/exporter-trace-otlp-proto"),
    import("@opentelemetry/resources"),
    import("@opentelemetry/sdk-trace"),
  ]);
  const exporterOptions = { url: config.url, headers: { ...config.headers } };
  const exporter: SpanExporter =
    config.protocol === "http/json"
      ? new OtlpJsonExporter(exporterOptions)
      : new OtlpProtobufExporter(exporterOptions);
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": config.serviceName }),
    spanProcessors: [new BatchSpanProcessor({ exporter })],
  });
  installContextManager();
  return {
    tracer: provider.getTracer(INSTRUMENTATION_SCOPE),
    content: config.content,
    shutdown: () => provider.shutdown(),
  };
};
