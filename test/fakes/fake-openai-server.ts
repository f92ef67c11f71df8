import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { AGENT_ROLES, type AgentRole } from "../../src/domain/run.js";
import { LLM_CALL_KINDS, type LlmCallKind } from "../../src/ports/llm.js";
import { type FakeHostedOptions, fakeReasoningTokens, hostedRefusal } from "./fake-openai-hosted.js";

/**
 * A fake OpenAI-compatible server for tests: POST /v1/chat/completions over plain node:http on
 * 127.0.0.1, JSON or SSE (`stream: true`). Replies are scripted from the X-Vex-* headers our adapter
 * sends with VEX_LLM_CONTEXT_HEADERS (tenant, run, agent, role, call kind, round) and the turn —
 * never from prompt words. With `hosted` options it first checks the key, the model and (for a
 * reasoning model) the parameters as the hosted API does (fake-openai-hosted.ts).
 */

/** The call tag as read back from the X-Vex-* headers (values percent-decoded). */
export interface FakeTag {
  readonly tenantId: string;
  readonly runId: string;
  readonly agentId: string;
  readonly role: AgentRole;
  readonly kind: LlmCallKind;
  readonly round: number;
}

/** The request body fields the adapter sends, as parsed from JSON (unknown fields are kept). */
export interface FakeChatBody {
  readonly model?: string;
  readonly messages?: ReadonlyArray<{ readonly role: string; readonly content: string }>;
  readonly temperature?: number;
  readonly top_p?: number;
  readonly presence_penalty?: number;
  readonly frequency_penalty?: number;
  readonly max_tokens?: number;
  readonly max_completion_tokens?: number;
  readonly reasoning_effort?: string;
  readonly verbosity?: string;
  readonly response_format?: {
    readonly type: string;
    readonly json_schema?: {
      readonly name?: string;
      readonly strict?: boolean;
      readonly schema?: { readonly required?: readonly string[] };
    };
  };
  readonly stream?: boolean;
  readonly stream_options?: { readonly include_usage?: boolean };
  readonly [key: string]: unknown;
}

export interface RecordedRequest {
  /** 1-based position among all requests this server received. */
  readonly seq: number;
  readonly method: string;
  readonly path: string;
  /** Lower-cased header names; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  /** Null when any X-Vex-* tag header is missing or invalid. */
  readonly tag: FakeTag | null;
  /** X-Vex-Attempt, when sent. */
  readonly attempt: number | null;
  /** 1-based count of requests with the same tenant, run, agent, kind and round (retries count too). */
  readonly turn: number;
  /** The parsed JSON body, or null when it was not a JSON object. */
  readonly body: FakeChatBody | null;
  readonly rawBody: string;
  readonly receivedAt: number;
  /** How the hosted checks refused this request before the script saw it (401, 404, 400 for a parameter). */
  refused: { readonly status: number; readonly param: string | null } | null;
  /**
   * Whether strict structured output replaced the scripted answer: the request carried
   * `response_format: json_schema` and the script's content did not fit it (see honourSchema).
   */
  constrained: boolean;
  /** How the exchange ended: still open, answered in full, closed by the client, or cut by this server. */
  outcome: "open" | "answered" | "client-closed" | "server-closed";
}

export interface FakeUsage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
  readonly completion_tokens_details?: { readonly reasoning_tokens: number };
}

/** A normal answer. In streaming mode the content is sent in `chunks` (default: word by word). */
export interface FakeContentReply {
  readonly content: string;
  /** Delay before the response headers. */
  readonly latencyMs?: number;
  /** Delay between streamed chunks. */
  readonly chunkDelayMs?: number;
  readonly chunks?: readonly string[];
  /** Null leaves usage out; default: characters / 4. */
  readonly usage?: FakeUsage | null;
  /** Model name to report; default: the requested model. */
  readonly model?: string;
  /** @default "stop" */
  readonly finishReason?: string;
}
/** An HTTP error with an OpenAI-style error body. */
export interface FakeErrorReply {
  readonly status: number;
  /** Sent as `Retry-After: <seconds>`. */
  readonly retryAfterSeconds?: number;
  /** Sent verbatim as Retry-After (e.g. an HTTP-date). */
  readonly retryAfter?: string;
  readonly message?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly latencyMs?: number;
}
/** 200 with an invalid JSON body, or in streaming mode an SSE event whose data is not JSON. */
export interface FakeMalformedReply {
  readonly malformedBody: true;
  readonly latencyMs?: number;
}
/**
 * Sends this many content chunks (non-streaming: half the body) and then cuts the connection, or
 * with `endCleanly` ends the response properly, but without a finish_reason or [DONE].
 */
export interface FakeDropReply {
  readonly dropStreamAfterChunks: number;
  readonly endCleanly?: boolean;
  readonly content?: string;
  readonly latencyMs?: number;
}
/** Never answers (or, with `afterChunks` in streaming mode, stalls after that many chunks). */
export interface FakeHangReply {
  readonly hang: true;
  readonly afterChunks?: number;
}
/** Any JSON body as is, e.g. `{ choices: [] }`. */
export interface FakeRawReply {
  readonly body: unknown;
  /** @default 200 */
  readonly status?: number;
  readonly latencyMs?: number;
}

export type FakeReply =
  | FakeContentReply
  | FakeErrorReply
  | FakeMalformedReply
  | FakeDropReply
  | FakeHangReply
  | FakeRawReply;

/** Which requests a rule applies to; every given field must match. */
export interface FakeMatch {
  readonly tenantId?: string;
  readonly runId?: string;
  readonly agentId?: string;
  readonly role?: AgentRole;
  readonly kind?: LlmCallKind;
  readonly round?: number;
  readonly turn?: number;
  readonly stream?: boolean;
}
export interface FakeRule {
  readonly match?: FakeMatch;
  readonly reply: FakeReply | ((req: RecordedRequest) => FakeReply);
}

/**
 * A function of the recorded request, or a rule list (first match wins; requests no rule matches
 * get `defaultFakeReply`).
 */
export type FakeScript = ((req: RecordedRequest) => FakeReply | Promise<FakeReply>) | readonly FakeRule[];

export interface FakeOpenAi {
  /** Base URL for the SDK, ending in /v1. */
  readonly url: string;
  /** Every request received, in order (live array). */
  readonly requests: readonly RecordedRequest[];
  readonly inFlight: number;
  /** Most requests open at the same moment. */
  readonly maxInFlight: number;
  /** Most requests open at the same moment, per tenant (X-Vex-Tenant). */
  readonly maxInFlightByTenant: ReadonlyMap<string, number>;
  /** Resolves once at least `count` requests have arrived; rejects after `timeoutMs`. */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves once no request is open; rejects after `timeoutMs`. */
  idle(timeoutMs?: number): Promise<void>;
  /** Ends every open exchange (hanging ones included) and stops listening. */
  close(): Promise<void>;
}

export const agreeVerdictJson = (confidence = 0.9): string =>
  JSON.stringify({
    isChallenge: false,
    confidence,
    reasoning: "The claim holds up.",
    suggestedRevision: null,
  });

/**
 * Answers sensibly per kind: CHALLENGE/REPAIR get a strict JSON verdict that agrees, REFLECTION and
 * CONSOLIDATION an empty JSON result (the offline provider's shapes), the rest text naming role and kind.
 */
export const defaultFakeReply = (req: RecordedRequest): FakeReply => {
  const tag = req.tag;
  if (tag === null) return { content: "untagged request" };
  switch (tag.kind) {
    case "CHALLENGE":
    case "REPAIR":
      return { content: agreeVerdictJson() };
    case "REFLECTION":
      return { content: JSON.stringify({ adjustments: [], reasoning: "No change suggested." }) };
    case "CONSOLIDATION":
      return { content: JSON.stringify({ rules: [] }) };
    case "CHECK":
      return { content: "OK" };
    case "ANSWER":
    case "SYNTHESIS":
    case "REBUTTAL":
      return {
        content: `${tag.role} ${tag.kind} (round ${tag.round}, turn ${req.turn}): a considered reply.`,
      };
  }
};

const POLL_MS = 5;
const DEFAULT_WAIT_MS = 5_000;

/** Starts the fake on 127.0.0.1 and a free port. */
export const startFakeOpenAi = async (
  options: { script?: FakeScript; hosted?: FakeHostedOptions } = {},
): Promise<FakeOpenAi> => {
  const script = options.script ?? defaultFakeReply;
  const hosted = options.hosted ?? {};
  const requests: RecordedRequest[] = [];
  const turns = new Map<string, number>();
  const open = new Map<ServerResponse, RecordedRequest>();
  const tenantsOpen = new Map<string, number>();
  const maxByTenant = new Map<string, number>();
  let inFlight = 0;
  let maxInFlight = 0;

  const server = createServer((req, res) => {
    void handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: `fake server error: ${String(e)}`, type: "fake_error" } }));
    });
  });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const headers = flatHeaders(req);
    const tag = parseTag(headers);
    // Counted from the request line on, so a client that gives up while sending the body still shows.
    const tenant = tag?.tenantId ?? "";
    let record: RecordedRequest | undefined;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    tenantsOpen.set(tenant, (tenantsOpen.get(tenant) ?? 0) + 1);
    maxByTenant.set(tenant, Math.max(maxByTenant.get(tenant) ?? 0, tenantsOpen.get(tenant) ?? 0));
    res.on("close", () => {
      open.delete(res);
      inFlight--;
      tenantsOpen.set(tenant, (tenantsOpen.get(tenant) ?? 1) - 1);
      if (record?.outcome === "open") record.outcome = res.writableFinished ? "answered" : "client-closed";
    });

    const rawBody = await readBody(req);
    const key = tag ? [tag.tenantId, tag.runId, tag.agentId, tag.kind, tag.round].join("\u0000") : "untagged";
    const turn = (turns.get(key) ?? 0) + 1;
    turns.set(key, turn);
    const attempt = headers["x-vex-attempt"] === undefined ? null : Number(headers["x-vex-attempt"]);
    record = {
      seq: requests.length + 1,
      method: req.method ?? "",
      path: req.url ?? "",
      headers,
      tag,
      attempt,
      turn,
      body: parseBody(rawBody),
      rawBody,
      receivedAt: Date.now(),
      refused: null,
      constrained: false,
      outcome: res.destroyed ? "client-closed" : "open",
    };
    requests.push(record);
    if (res.destroyed) return;
    open.set(res, record);

    if (req.method !== "POST" || !req.url?.startsWith("/v1/chat/completions")) {
      sendError(res, { status: 404, message: `no route ${req.method} ${req.url}` });
      return;
    }
    const refused = hostedRefusal(hosted, headers.authorization, record.body);
    if (refused !== null) {
      record.refused = { status: refused.status, param: refused.body.error.param };
      res.writeHead(refused.status, { "content-type": "application/json" });
      res.end(JSON.stringify(refused.body));
      return;
    }
    const reply = honourSchema(await pickReply(script, record), record);
    await respond(res, record, reply, hosted.reasoning === true);
  };

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  const waitUntil = async (ok: () => boolean, timeoutMs: number, what: string): Promise<void> => {
    const until = Date.now() + timeoutMs;
    while (!ok()) {
      if (Date.now() > until) throw new Error(`fake OpenAI: timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  };

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    maxInFlightByTenant: maxByTenant,
    waitForRequests: (n, timeoutMs = DEFAULT_WAIT_MS) =>
      waitUntil(() => requests.length >= n, timeoutMs, `${n} requests`),
    idle: (timeoutMs = DEFAULT_WAIT_MS) => waitUntil(() => inFlight === 0, timeoutMs, "no open requests"),
    close: async () => {
      for (const [res, record] of open) {
        if (record.outcome === "open") record.outcome = "server-closed";
        res.destroy();
      }
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

const pickReply = async (script: FakeScript, req: RecordedRequest): Promise<FakeReply> => {
  if (typeof script === "function") return script(req);
  for (const rule of script) {
    if (rule.match === undefined || matches(rule.match, req)) {
      return typeof rule.reply === "function" ? rule.reply(req) : rule.reply;
    }
  }
  return defaultFakeReply(req);
};

/**
 * Strict structured output as a server does it: with `response_format: json_schema` the answer is
 * decoded against the schema, so a scripted content reply that is not a JSON object with every
 * required property becomes the kind's default (schema-shaped) answer, and the request records it.
 */
const honourSchema = (reply: FakeReply, req: RecordedRequest): FakeReply => {
  const format = req.body?.response_format;
  if (format?.type !== "json_schema" || !("content" in reply) || "dropStreamAfterChunks" in reply)
    return reply;
  if (hasProperties(reply.content, format.json_schema?.schema?.required ?? [])) return reply;
  req.constrained = true;
  return { ...reply, content: (defaultFakeReply(req) as FakeContentReply).content, chunks: undefined };
};

const hasProperties = (text: string, required: readonly string[]): boolean => {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && required.every((k) => k in value);
  } catch {
    return false;
  }
};

const matches = (m: FakeMatch, req: RecordedRequest): boolean => {
  const t = req.tag;
  if (m.turn !== undefined && m.turn !== req.turn) return false;
  if (m.stream !== undefined && m.stream !== (req.body?.stream === true)) return false;
  const tagFields = ["tenantId", "runId", "agentId", "role", "kind", "round"] as const;
  return tagFields.every((f) => m[f] === undefined || (t !== null && t[f] === m[f]));
};

const respond = async (
  res: ServerResponse,
  req: RecordedRequest,
  reply: FakeReply,
  reasoning: boolean,
): Promise<void> => {
  const stream = req.body?.stream === true;
  const includeUsage = req.body?.stream_options?.include_usage === true;
  if ("hang" in reply) {
    if (stream && reply.afterChunks !== undefined) {
      startStream(res);
      const pieces = words("this answer never finishes because the server stalls");
      for (const piece of pieces.slice(0, reply.afterChunks))
        await writeEvent(res, chunk(req, { content: piece }));
    }
    return; // left open until the client aborts or close() ends it
  }
  if ("latencyMs" in reply && reply.latencyMs) await delay(reply.latencyMs, res);
  if (res.destroyed) return;
  if ("malformedBody" in reply) {
    if (!stream) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"id":"chatcmpl-broken","object":"chat.completion","choices":[{"index":0,"mess');
      return;
    }
    startStream(res);
    await writeEvent(res, chunk(req, { role: "assistant", content: "" }));
    res.write("data: {this is not json\n\n");
    res.end("data: [DONE]\n\n");
    return;
  }
  if ("dropStreamAfterChunks" in reply) {
    const content = reply.content ?? "a reply that will be cut off before it is complete";
    if (!stream) {
      const full = JSON.stringify(completion(req, { content }));
      // A declared length makes the cut visible as a cut; without it, a clean end is just short JSON.
      const length = reply.endCleanly ? {} : { "content-length": String(Buffer.byteLength(full)) };
      res.writeHead(200, { "content-type": "application/json", ...length });
      await writeRaw(res, full.slice(0, Math.floor(full.length / 2)));
    } else {
      startStream(res);
      for (const piece of words(content).slice(0, reply.dropStreamAfterChunks)) {
        await writeEvent(res, chunk(req, { content: piece }));
      }
    }
    if (reply.endCleanly) {
      res.end();
      return;
    }
    req.outcome = "server-closed";
    res.destroy();
    return;
  }
  if ("body" in reply) {
    res.writeHead(reply.status ?? 200, { "content-type": "application/json" });
    res.end(JSON.stringify(reply.body));
    return;
  }
  if ("status" in reply) {
    sendError(res, reply);
    return;
  }
  if (!stream) {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(completion(req, reply, reasoning)));
    return;
  }
  startStream(res);
  await writeEvent(res, chunk(req, { role: "assistant", content: "" }));
  for (const piece of reply.chunks ?? words(reply.content)) {
    if (reply.chunkDelayMs) await delay(reply.chunkDelayMs, res);
    if (res.destroyed) return;
    await writeEvent(res, chunk(req, { content: piece }));
  }
  await writeEvent(res, chunk(req, {}, reply.finishReason ?? "stop"));
  const usage = usageOf(req, reply, reasoning);
  if (includeUsage && usage !== null) await writeEvent(res, { ...chunk(req, {}), choices: [], usage });
  res.end("data: [DONE]\n\n");
};

const sendError = (res: ServerResponse, reply: FakeErrorReply): void => {
  const headers: Record<string, string> = { "content-type": "application/json", ...reply.headers };
  if (reply.retryAfterSeconds !== undefined) headers["retry-after"] = String(reply.retryAfterSeconds);
  if (reply.retryAfter !== undefined) headers["retry-after"] = reply.retryAfter;
  res.writeHead(reply.status, headers);
  const type =
    reply.status === 429
      ? "rate_limit_exceeded"
      : reply.status >= 500
        ? "server_error"
        : "invalid_request_error";
  res.end(
    JSON.stringify({ error: { message: reply.message ?? `fake HTTP ${reply.status}`, type, code: null } }),
  );
};

const created = () => Math.floor(Date.now() / 1000);

const completion = (req: RecordedRequest, reply: FakeContentReply, reasoning = false) => ({
  id: `chatcmpl-fake-${req.seq}`,
  object: "chat.completion",
  created: created(),
  model: reply.model ?? req.body?.model ?? "fake-model",
  choices: [
    {
      index: 0,
      message: { role: "assistant", content: reply.content, refusal: null },
      finish_reason: reply.finishReason ?? "stop",
      logprobs: null,
    },
  ],
  ...(usageOf(req, reply, reasoning) === null ? {} : { usage: usageOf(req, reply, reasoning) }),
});

const chunk = (req: RecordedRequest, delta: Record<string, string>, finishReason: string | null = null) => ({
  id: `chatcmpl-fake-${req.seq}`,
  object: "chat.completion.chunk",
  created: created(),
  model: req.body?.model ?? "fake-model",
  choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
});

/** Characters / 4; a reasoning model's completion includes its reasoning tokens, reported apart too. */
const usageOf = (req: RecordedRequest, reply: FakeContentReply, reasoning: boolean): FakeUsage | null => {
  if (reply.usage !== undefined) return reply.usage;
  const promptChars = (req.body?.messages ?? []).reduce((n, m) => n + String(m.content).length, 0);
  const prompt_tokens = Math.ceil(promptChars / 4);
  const reasoning_tokens = reasoning ? fakeReasoningTokens(req.body) : 0;
  const completion_tokens = Math.ceil(reply.content.length / 4) + reasoning_tokens;
  return {
    prompt_tokens,
    completion_tokens,
    total_tokens: prompt_tokens + completion_tokens,
    ...(reasoning ? { completion_tokens_details: { reasoning_tokens } } : {}),
  };
};

const words = (text: string): string[] => text.match(/\S+\s*/g) ?? [];

const startStream = (res: ServerResponse): void => {
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    connection: "keep-alive",
  });
};

const writeRaw = (res: ServerResponse, data: string): Promise<void> =>
  new Promise((resolve) => {
    if (res.destroyed) {
      resolve();
      return;
    }
    res.write(data, () => resolve());
  });

const writeEvent = (res: ServerResponse, data: unknown): Promise<void> =>
  writeRaw(res, `data: ${JSON.stringify(data)}\n\n`);

/** Waits `ms`, or less when the client goes away first. */
const delay = (ms: number, res: ServerResponse): Promise<void> =>
  new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      res.off("close", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    res.on("close", done);
  });

const readBody = async (req: IncomingMessage): Promise<string> => {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts).toString("utf8");
};

const flatHeaders = (req: IncomingMessage): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
};

const parseTag = (h: Record<string, string>): FakeTag | null => {
  const [tenant, run, agent, role, kind, round] = [
    "x-vex-tenant",
    "x-vex-run",
    "x-vex-agent",
    "x-vex-role",
    "x-vex-call",
    "x-vex-round",
  ].map((n) => h[n]);
  if (tenant === undefined || run === undefined || agent === undefined || round === undefined) return null;
  if (!(AGENT_ROLES as readonly string[]).includes(role ?? "")) return null;
  if (!(LLM_CALL_KINDS as readonly string[]).includes(kind ?? "")) return null;
  if (!/^\d+$/.test(round)) return null;
  return {
    tenantId: decodeURIComponent(tenant),
    runId: decodeURIComponent(run),
    agentId: decodeURIComponent(agent),
    role: role as AgentRole,
    kind: kind as LlmCallKind,
    round: Number(round),
  };
};

const parseBody = (raw: string): FakeChatBody | null => {
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as FakeChatBody)
      : null;
  } catch {
    return null;
  }
};
