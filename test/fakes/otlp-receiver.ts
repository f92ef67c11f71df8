import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

/** One span as an OTLP receiver sees it, from either encoding. */
export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** Empty for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  /** The resource's attributes (service.name …). */
  readonly resource: Readonly<Record<string, string | number | boolean>>;
}

export interface ReceivedExport {
  readonly contentType: string;
  readonly headers: IncomingHttpHeaders;
  readonly spans: readonly ReceivedSpan[];
}

export interface OtlpReceiver {
  /** The base endpoint (OTEL_EXPORTER_OTLP_ENDPOINT); traces arrive at /v1/traces under it. */
  readonly url: string;
  readonly exports: ReceivedExport[];
  spans(): ReceivedSpan[];
  close(): Promise<void>;
}

/**
 * A real OTLP/HTTP traces receiver: accepts ExportTraceServiceRequest at POST /v1/traces as JSON
 * (http/json) or protobuf (http/protobuf) and decodes both into the same spans.
 */
export const startOtlpReceiver = async (): Promise<OtlpReceiver> => {
  const exports: ReceivedExport[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const contentType = req.headers["content-type"] ?? "";
      if (req.method !== "POST" || req.url !== "/v1/traces") {
        res.writeHead(404).end();
        return;
      }
      const spans = contentType.includes("json") ? fromJson(body) : fromProtobuf(body);
      exports.push({ contentType, headers: req.headers, spans });
      // An empty ExportTraceServiceResponse: full success, in the request's own encoding.
      res.writeHead(200, { "content-type": contentType }).end(contentType.includes("json") ? "{}" : "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exports,
    spans: () => exports.flatMap((e) => e.spans),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
};

type Scalar = string | number | boolean;
interface JsonAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
}
interface JsonKeyValue {
  key: string;
  value: JsonAnyValue;
}
const jsonValue = (v: JsonAnyValue): Scalar =>
  v.stringValue ?? v.boolValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.doubleValue ?? ""));
const jsonAttributes = (kvs: readonly JsonKeyValue[] = []) =>
  Object.fromEntries(kvs.map((kv) => [kv.key, jsonValue(kv.value)]));

const fromJson = (body: Buffer): ReceivedSpan[] => {
  const request = JSON.parse(body.toString("utf8")) as {
    resourceSpans: {
      resource?: { attributes?: JsonKeyValue[] };
      scopeSpans: {
        spans: {
          traceId: string;
          spanId: string;
          parentSpanId?: string;
          name: string;
          attributes?: JsonKeyValue[];
        }[];
      }[];
    }[];
  };
  return request.resourceSpans.flatMap((rs) =>
    rs.scopeSpans.flatMap((ss) =>
      ss.spans.map((s) => ({
        traceId: s.traceId,
        spanId: s.spanId,
        parentSpanId: s.parentSpanId ?? "",
        name: s.name,
        attributes: jsonAttributes(s.attributes),
        resource: jsonAttributes(rs.resource?.attributes),
      })),
    ),
  );
};

/**
 * Protocol Buffers wire format, read field by field: the handful of opentelemetry-proto fields a
 * test looks at (field numbers from opentelemetry/proto/trace/v1/trace.proto and common.proto).
 */
type Field = {
  readonly no: number;
  readonly varint?: bigint;
  readonly bytes?: Buffer;
  readonly fixed64?: Buffer;
};

const fieldsOf = (buf: Buffer): Field[] => {
  const fields: Field[] = [];
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = buf[at++] as number;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
    }
  };
  while (at < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    switch (key & 7) {
      case 0:
        fields.push({ no, varint: varint() });
        break;
      case 1:
        fields.push({ no, fixed64: buf.subarray(at, at + 8) });
        at += 8;
        break;
      case 2: {
        const length = Number(varint());
        fields.push({ no, bytes: buf.subarray(at, at + length) });
        at += length;
        break;
      }
      case 5:
        at += 4;
        break;
      default:
        throw new Error(`unsupported protobuf wire type ${key & 7}`);
    }
  }
  return fields;
};
const messages = (fields: Field[], no: number) =>
  fields.filter((f) => f.no === no && f.bytes).map((f) => fieldsOf(f.bytes as Buffer));
const text = (fields: Field[], no: number) => fields.find((f) => f.no === no)?.bytes?.toString("utf8") ?? "";
const hex = (fields: Field[], no: number) => fields.find((f) => f.no === no)?.bytes?.toString("hex") ?? "";

/** AnyValue: string_value 1, bool_value 2, int_value 3, double_value 4. */
const anyValue = (v: Field[]): Scalar => {
  const f = v[0];
  if (f === undefined) return "";
  if (f.no === 1) return f.bytes?.toString("utf8") ?? "";
  if (f.no === 2) return f.varint === 1n;
  if (f.no === 3) return Number(BigInt.asIntN(64, f.varint ?? 0n));
  if (f.no === 4) return f.fixed64?.readDoubleLE(0) ?? 0;
  return "";
};
/** KeyValue: key 1, value 2. */
const pbAttributes = (kvs: Field[][]) =>
  Object.fromEntries(kvs.map((kv) => [text(kv, 1), anyValue(messages(kv, 2)[0] ?? [])]));

/** ExportTraceServiceRequest.resource_spans 1 → ResourceSpans (resource 1, scope_spans 2) → ScopeSpans.spans 2. */
const fromProtobuf = (body: Buffer): ReceivedSpan[] =>
  messages(fieldsOf(body), 1).flatMap((rs) => {
    const resource = pbAttributes(messages(messages(rs, 1)[0] ?? [], 1));
    return messages(rs, 2).flatMap((ss) =>
      // Span: trace_id 1, span_id 2, parent_span_id 4, name 5, attributes 9.
      messages(ss, 2).map((s) => ({
        traceId: hex(s, 1),
        spanId: hex(s, 2),
        parentSpanId: hex(s, 4),
        name: text(s, 5),
        attributes: pbAttributes(messages(s, 9)),
        resource,
      })),
    );
  });
