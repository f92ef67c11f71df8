import { describe, expect, it } from "vitest";
import {
  createHttpWsTransport,
  createVexClient,
  OrchestrationsDocument,
  VexError,
} from "../../client/index.js";

/** A fetch that answers every request with one fixed response (the transport's HTTP side, no server). */
const answering =
  (status: number, body: string, headers: Record<string, string> = {}): typeof fetch =>
  async () =>
    new Response(body, { status, headers: { "content-type": "application/json", ...headers } });

describe("the client's HTTP transport", () => {
  it("turns a 429's Retry-After into retryAfterMs when the error does not carry it", async () => {
    const body = JSON.stringify({
      errors: [{ message: "Slow down.", extensions: { code: "RATE_LIMITED" } }],
    });
    const vex = createVexClient({
      url: "http://vex.test/graphql",
      fetch: answering(429, body, { "retry-after": "7" }),
    });
    const error = await vex.orchestrations().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VexError);
    expect(error).toMatchObject({ code: "RATE_LIMITED", status: 429, extensions: { retryAfterMs: 7000 } });
  });

  it("keeps the server's own retryAfterMs", async () => {
    const body = JSON.stringify({
      errors: [{ message: "Slow down.", extensions: { code: "RATE_LIMITED", retryAfterMs: 1500 } }],
    });
    const transport = createHttpWsTransport({
      url: "http://vex.test/graphql",
      fetch: answering(429, body, { "retry-after": "7" }),
    });
    await expect(transport.execute(OrchestrationsDocument, {})).rejects.toMatchObject({
      extensions: { retryAfterMs: 1500 },
    });
  });

  it("says when something other than GraphQL answered", async () => {
    const vex = createVexClient({
      url: "http://vex.test/graphql",
      fetch: answering(502, "<html>Bad gateway</html>"),
    });
    await expect(vex.orchestrations()).rejects.toMatchObject({ code: "BAD_RESPONSE", status: 502 });
  });

  it("refuses to subscribe without a WebSocket implementation, with a message saying what to pass", async () => {
    const transport = createHttpWsTransport({ url: "http://127.0.0.1:9/graphql" });
    const hasGlobal = (globalThis as { WebSocket?: unknown }).WebSocket !== undefined;
    const vex = createVexClient({ url: "http://127.0.0.1:9/graphql", transport });
    const watch = vex.watch("run", { retry: { attempts: 0 } });
    if (hasGlobal) {
      // Node ≥ 22: the global WebSocket is used; nothing listens, so the watch fails as unreachable.
      await expect(watch.next()).rejects.toMatchObject({ code: "SERVER_UNREACHABLE" });
    } else {
      await expect(watch.next()).rejects.toThrow(/webSocketImpl/);
    }
  });
});
