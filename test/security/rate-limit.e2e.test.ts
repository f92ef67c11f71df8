import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CancelOrchestrationDocument,
  OrchestrationsDocument,
  StartOrchestrationDocument,
} from "../../client/generated/graphql.js";
import { ScriptedLlm } from "../fakes/scripted-llm.js";
import { execute, request, wsClient } from "../support/graphql.js";
import { bearer, createTestKey } from "../support/keys.js";
import { makeDataDir, removeDir, startTestServer, type TestServer } from "../support/server.js";

/** Every agent's answer hangs until the run is cancelled: runs stay RUNNING as long as a test needs. */
const hangingLlm = () => new ScriptedLlm((req) => (req.tag.kind === "ANSWER" ? { hang: true } : "x"));

const servers: TestServer[] = [];
const startWithKeys = async (env: Record<string, string>, tenants: readonly string[]) => {
  const dataDir = await makeDataDir();
  const server = await startTestServer({ dataDir, env, llm: hangingLlm() });
  servers.push(server);
  const keys: Record<string, Record<string, string>> = {};
  for (const t of tenants) keys[t] = bearer((await createTestKey(dataDir, t)).key);
  return { server, keys };
};
afterAll(async () => {
  for (const s of servers) {
    await s.stop();
    await removeDir(s.dataDir);
  }
});

const start = (server: TestServer, headers: Record<string, string>, query = "q") =>
  execute(server.url, StartOrchestrationDocument, { input: { query, maxDepth: 1 } }, headers);
const cancelAll = async (server: TestServer, headers: Record<string, string>, ids: readonly string[]) => {
  for (const id of ids) await request(server.url, CancelOrchestrationDocument, { id }, headers);
};

describe("per-tenant rate limit on startOrchestration", () => {
  let server: TestServer;
  let keys: Record<string, Record<string, string>>;
  beforeAll(async () => {
    ({ server, keys } = await startWithKeys({ VEX_RATE_LIMIT_PER_MINUTE: "2", VEX_RATE_LIMIT_BURST: "0" }, [
      "acme",
      "globex",
    ]));
  });

  it("refuses the third start in a minute with RATE_LIMITED and retryAfterSeconds; other tenants are unaffected", async () => {
    const acme = keys.acme as Record<string, string>;
    const globex = keys.globex as Record<string, string>;
    const first = await start(server, acme);
    const second = await start(server, acme);
    expect(first.errors).toBeUndefined();
    expect(second.errors).toBeUndefined();

    const third = await start(server, acme);
    expect(third.status).toBe(200);
    expect(third.data).toBeNull();
    expect(third.errors).toHaveLength(1);
    const error = third.errors?.[0];
    expect(error?.extensions?.code).toBe("RATE_LIMITED");
    const retryAfter = error?.extensions?.retryAfterSeconds as number;
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(error?.message).toContain(`${retryAfter} s`);

    // The refused start stored nothing.
    const listed = await request(server.url, OrchestrationsDocument, { first: 10 }, acme);
    expect(listed.orchestrations.edges).toHaveLength(2);

    // Another tenant has its own budget, over HTTP and over WebSocket.
    const other = await start(server, globex);
    expect(other.errors).toBeUndefined();
    const client = wsClient(server.wsUrl, (globex.authorization as string).replace(/^Bearer /, ""));
    try {
      const overWs = await new Promise<{
        data?: { startOrchestration: { id: string } } | null;
        errors?: readonly unknown[];
      }>((resolve, reject) =>
        client.subscribe(
          {
            query: 'mutation { startOrchestration(input: { query: "ws", maxDepth: 1 }) { id status } }',
          },
          { next: (r) => resolve(r as typeof overWs), error: reject, complete: () => undefined },
        ),
      );
      expect(overWs.errors).toBeUndefined();
      await cancelAll(server, globex, [overWs.data?.startOrchestration.id as string]);
      // …which is now spent too, and the WebSocket error carries the same code and detail.
      const spent = await new Promise<{ errors?: readonly { extensions?: Record<string, unknown> }[] }>(
        (resolve, reject) =>
          client.subscribe(
            { query: 'mutation { startOrchestration(input: { query: "ws" }) { id } }' },
            { next: resolve, error: reject, complete: () => undefined },
          ),
      );
      expect(spent.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED" });
      expect(spent.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    } finally {
      await client.dispose();
    }

    const runs = [first, second, other].map((r) => r.data?.startOrchestration.id as string);
    await cancelAll(server, acme, runs.slice(0, 2));
    await cancelAll(server, globex, runs.slice(2));
    // Cancelling gives no budget back: the limit is on starts, not on running runs.
    expect((await start(server, acme)).errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
  });
});

describe("per-tenant cap on concurrent runs", () => {
  let server: TestServer;
  let keys: Record<string, Record<string, string>>;
  beforeAll(async () => {
    ({ server, keys } = await startWithKeys({ VEX_MAX_CONCURRENT_RUNS_PER_TENANT: "1" }, ["acme", "globex"]));
  });

  it("refuses a second concurrent run with CONCURRENCY_LIMITED; after cancel the tenant can start again", async () => {
    const acme = keys.acme as Record<string, string>;
    const globex = keys.globex as Record<string, string>;
    const running = await start(server, acme, "first");
    expect(running.data?.startOrchestration.status).toBe("PENDING");

    const refused = await start(server, acme, "second");
    expect(refused.data).toBeNull();
    expect(refused.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/At most 1 run/),
      extensions: { code: "CONCURRENCY_LIMITED", limit: 1 },
    });

    // Another tenant's cap is its own.
    const other = await start(server, globex, "other");
    expect(other.errors).toBeUndefined();

    const cancelled = await request(
      server.url,
      CancelOrchestrationDocument,
      { id: running.data?.startOrchestration.id as string },
      acme,
    );
    expect(cancelled.cancelOrchestration.status).toBe("CANCELLED");

    const again = await start(server, acme, "third");
    expect(again.errors).toBeUndefined();
    expect(again.data?.startOrchestration.status).toBe("PENDING");

    await cancelAll(server, acme, [again.data?.startOrchestration.id as string]);
    await cancelAll(server, globex, [other.data?.startOrchestration.id as string]);
  });
});
