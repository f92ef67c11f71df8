import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createHttpSseTransport,
  createVexClient,
  type ReconnectInfo,
  type RunEvent,
  VexError,
} from "../../client/index.js";
import type { LlmClient } from "../../src/ports/llm.js";
import { defaultScript, ScriptedLlm } from "../fakes/scripted-llm.js";
import { allOf, deferred } from "../support/async.js";
import { createTestKey } from "../support/keys.js";
import { removeDir, startTestServer, type TestServer } from "../support/server.js";

// The SDK over Server-Sent Events: the same client, with the SSE transport instead of WebSocket.

const collect = (events: AsyncIterable<RunEvent>) => allOf(events);

const NEXT_EVENT = "event: next";

/**
 * fetch that breaks the first event stream it opens right after its first `next` event, as a
 * network that drops a connection would: the client sees the body fail, not a completed stream.
 */
const droppingFetch = () => {
  let streams = 0;
  const dropped = deferred();
  const impl: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    const accept = new Headers(init?.headers).get("accept") ?? "";
    if (!accept.includes("text/event-stream") || streams++ > 0 || res.body === null) return res;
    let seen = "";
    const cut = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        controller.enqueue(chunk);
        seen += new TextDecoder().decode(chunk);
        if (seen.includes(NEXT_EVENT)) {
          controller.error(new TypeError("network connection lost"));
          dropped.open();
        }
      },
    });
    return new Response(res.body.pipeThrough(cut), { status: res.status, headers: res.headers });
  };
  return { impl, dropped: dropped.promise };
};

describe("the SDK over Server-Sent Events", () => {
  // The root's synthesis waits until the client has reconnected, so the drop is mid-run.
  const synthesis = deferred();
  const scripted = new ScriptedLlm((req, turn) => String(defaultScript(req, turn)));
  const llm: LlmClient = {
    model: scripted.model,
    complete: async (req, opts) => {
      if (req.tag.kind === "SYNTHESIS") await synthesis.promise;
      return scripted.complete(req, opts);
    },
  };
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ llm });
  });
  afterAll(async () => {
    synthesis.open();
    await server.stop();
    await removeDir(server.dataDir);
  });

  it("watches a run across a dropped stream: resumed with afterSeq, every event once, in order", async () => {
    const { impl, dropped } = droppingFetch();
    const vex = createVexClient({
      url: server.url,
      transport: createHttpSseTransport({ url: server.url, fetch: impl }),
      retry: { baseDelayMs: 20 },
    });
    try {
      const started = await vex.startOrchestration({ query: "survive a dropped stream" });
      const reconnects: ReconnectInfo[] = [];
      const events = await collect(
        vex.watch(started.id, {
          onReconnect: (info) => {
            reconnects.push(info);
            synthesis.open();
          },
        }),
      );
      await dropped;
      expect(reconnects.length).toBeGreaterThanOrEqual(1);
      expect(reconnects[0]?.afterSeq).toBeGreaterThanOrEqual(1);
      const seqs = events.map((e) => e.seq);
      expect(seqs).toEqual(events.map((_, i) => i + 1));
      expect(events.at(-1)).toMatchObject({ __typename: "RunFinished", status: "SUCCEEDED" });
      expect(await vex.eventLog(started.id)).toEqual(events);
    } finally {
      await vex.close();
    }
  });

  it("reports a refused key as UNAUTHENTICATED, from HTTP and from the stream", async () => {
    await createTestKey(server.dataDir, "acme");
    const wrong = createVexClient({
      url: server.url,
      transport: createHttpSseTransport({ url: server.url, apiKey: "vex_wrong" }),
    });
    try {
      const refusedHttp = await wrong.orchestrations().catch((e: unknown) => e);
      expect(refusedHttp).toBeInstanceOf(VexError);
      expect((refusedHttp as VexError).code).toBe("UNAUTHENTICATED");
      const refusedStream = await collect(wrong.watch("any-run")).catch((e: unknown) => e);
      expect(refusedStream).toBeInstanceOf(VexError);
      expect(refusedStream).toMatchObject({ code: "UNAUTHENTICATED", status: 401 });
    } finally {
      await wrong.close();
    }
  });
});
