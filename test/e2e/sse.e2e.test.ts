import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { type FormattedExecutionResult, print } from "graphql";
import { type Client, createClient, NetworkError } from "graphql-sse";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AgentTokensDocument,
  type AgentTokensSubscription,
  EvolutionEventsDocument,
  type EvolutionEventsSubscription,
  OrchestrationEventsDocument,
  type OrchestrationEventsSubscription,
  OrchestrationsDocument,
  StartOrchestrationDocument,
} from "../../client/generated/graphql.js";
import { CONFIG_DEFAULTS } from "../../src/config.js";
import type { LlmCallOptions, LlmClient, LlmRequest } from "../../src/ports/llm.js";
import { ScriptedLlm } from "../fakes/scripted-llm.js";
import { deferred } from "../support/async.js";
import { request } from "../support/graphql.js";
import { bearer, createTestKey } from "../support/keys.js";
import { removeDir, startTestServer, type TestServer } from "../support/server.js";

type RunEvent = OrchestrationEventsSubscription["orchestrationEvents"];

/** While held, ANSWER calls wait until the test releases them: a run pauses where a test needs it. */
class GatedLlm implements LlmClient {
  readonly model: string;
  private gate: Promise<void> = Promise.resolve();
  constructor(private readonly inner: ScriptedLlm) {
    this.model = inner.model;
  }
  /** Holds ANSWER calls from now on; the returned function releases them. */
  hold(): () => void {
    const gate = deferred();
    this.gate = gate.promise;
    return () => gate.open();
  }
  async complete(req: LlmRequest, options?: LlmCallOptions) {
    if (req.tag.kind === "ANSWER") await this.gate;
    return this.inner.complete(req, options);
  }
}

const llm = new GatedLlm(new ScriptedLlm());
let server: TestServer;
let streamUrl: string;
let acme: Awaited<ReturnType<typeof createTestKey>>;
let globex: Awaited<ReturnType<typeof createTestKey>>;

beforeAll(async () => {
  server = await startTestServer({ llm, env: { VEX_KEY_RECHECK_MS: "50" } });
  streamUrl = `${server.url}/stream`;
  acme = await createTestKey(server.dataDir, "acme");
  globex = await createTestKey(server.dataDir, "globex");
});
afterAll(async () => {
  await server.stop();
  await removeDir(server.dataDir);
});

/** The official graphql-sse client (distinct connections mode), without retries. */
const sseClient = (key: string): Client =>
  createClient({ url: streamUrl, headers: bearer(key), retryAttempts: 0 });

/**
 * Subscribes and resolves `connected` once the server has answered: by then the subscription is
 * registered on the server (graphql-sse answers after the operation has subscribed).
 */
const subscribe = <R, V>(client: Client<false>, document: TypedDocumentNode<R, V>, variables?: V) => {
  const connected = deferred();
  const results = client.iterate(
    { query: print(document), variables: variables as Record<string, unknown> | undefined },
    { connected: () => connected.open() },
  ) as AsyncIterableIterator<FormattedExecutionResult<R>>;
  return { results, connected: connected.promise };
};

const start = async (key: string, query: string, input: Record<string, unknown> = {}) =>
  (await request(server.url, StartOrchestrationDocument, { input: { query, ...input } }, bearer(key)))
    .startOrchestration;

/** Events of one subscription until RunFinished, or until `stopAfter` says so. */
const eventsOf = async (
  results: AsyncIterableIterator<FormattedExecutionResult<{ orchestrationEvents: RunEvent }>>,
  stopAfter: (e: RunEvent) => boolean = (e) => e.__typename === "RunFinished",
) => {
  const events: RunEvent[] = [];
  for await (const r of results) {
    expect(r.errors).toBeUndefined();
    const event = (r.data as { orchestrationEvents: RunEvent }).orchestrationEvents;
    events.push(event);
    if (stopAfter(event)) break;
  }
  return events;
};

/** The run of the next evolution record a subscription receives. */
const evolutionRunOf = async (
  results: AsyncIterableIterator<FormattedExecutionResult<EvolutionEventsSubscription>>,
) => {
  const { value, done } = await results.next();
  expect(done).toBe(false);
  expect(value.errors).toBeUndefined();
  return (value.data as EvolutionEventsSubscription).evolutionEvents.orchestrationId;
};

describe("subscriptions over Server-Sent Events", () => {
  it("stream a run's events in order, from the first to RunFinished", async () => {
    const run = await start(acme.key, "sse whole run");
    const client = sseClient(acme.key);
    try {
      const { results } = subscribe(client, OrchestrationEventsDocument, { orchestrationId: run.id });
      const events = await eventsOf(results);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(events[0]?.__typename).toBe("RunStarted");
      expect(events.at(-1)).toMatchObject({ __typename: "RunFinished", status: "SUCCEEDED" });
    } finally {
      client.dispose();
    }
  });

  it("resume with afterSeq after a dropped connection: every seq once", async () => {
    const open = llm.hold();
    const run = await start(acme.key, "sse dropped");
    const first = sseClient(acme.key);
    const { results } = subscribe(first, OrchestrationEventsDocument, { orchestrationId: run.id });
    // The run waits at its agents' answers: RunStarted and the root's AgentStarted are stored.
    const before = await eventsOf(results, (e) => e.__typename === "AgentStarted");
    first.dispose();
    open();
    const last = before.at(-1)?.seq ?? 0;
    const second = sseClient(acme.key);
    try {
      const resumed = subscribe(second, OrchestrationEventsDocument, {
        orchestrationId: run.id,
        afterSeq: last,
      });
      const after = await eventsOf(resumed.results);
      const seqs = [...before, ...after].map((e) => e.seq);
      expect(after[0]?.seq).toBe(last + 1);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
      expect(after.at(-1)?.__typename).toBe("RunFinished");
    } finally {
      second.dispose();
    }
  });

  it("stream agentTokens live and evolutionEvents, scoped to the caller's tenant", async () => {
    const open = llm.hold();
    const run = await start(acme.key, "sse live", { evolution: "GENETIC" });
    const client = sseClient(acme.key);
    const other = sseClient(globex.key);
    try {
      const tokens = subscribe(client, AgentTokensDocument, { orchestrationId: run.id });
      const evolution = subscribe(client, EvolutionEventsDocument);
      const foreign = subscribe(other, EvolutionEventsDocument);
      await Promise.all([tokens.connected, evolution.connected, foreign.connected]);
      open();
      const seen: AgentTokensSubscription["agentTokens"][] = [];
      for await (const r of tokens.results) {
        seen.push((r.data as AgentTokensSubscription).agentTokens);
        if (seen.some((t) => t.kind === "SYNTHESIS")) break;
      }
      expect(new Set(seen.filter((t) => t.kind === "ANSWER").map((t) => t.agentId)).size).toBe(2);
      expect(seen.every((t) => t.orchestrationId === run.id)).toBe(true);
      expect(await evolutionRunOf(evolution.results)).toBe(run.id);
      // The other tenant's stream got nothing of acme's: its next event is from its own run.
      const own = await start(globex.key, "sse globex", { evolution: "GENETIC" });
      expect(await evolutionRunOf(foreign.results)).toBe(own.id);
    } finally {
      client.dispose();
      other.dispose();
    }
  });

  it("answer another tenant's run as a missing one", async () => {
    const run = await start(acme.key, "sse other tenant");
    const client = sseClient(globex.key);
    try {
      const { results } = subscribe(client, OrchestrationEventsDocument, { orchestrationId: run.id });
      const all: FormattedExecutionResult[] = [];
      for await (const r of results) all.push(r);
      expect(all).toHaveLength(1);
      expect(all[0]?.data ?? null).toBeNull();
      expect(all[0]?.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    } finally {
      client.dispose();
    }
  });

  it("refuse a wrong key with 401 and stream nothing", async () => {
    const client = createClient({ url: streamUrl, headers: bearer("vex_wrong"), retryAttempts: 0 });
    const { results } = subscribe(client, EvolutionEventsDocument);
    const error = await results.next().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).response?.status).toBe(401);
    client.dispose();

    const raw = await fetch(streamUrl, {
      method: "POST",
      headers: { accept: "text/event-stream", "content-type": "application/json", ...bearer("vex_wrong") },
      body: JSON.stringify({ query: print(EvolutionEventsDocument) }),
    });
    expect(raw.status).toBe(401);
    expect(raw.headers.get("content-type")).toContain("application/json");
    const body = (await raw.json()) as FormattedExecutionResult;
    expect(body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("apply the document limits and serve only subscriptions, with the codes HTTP uses", async () => {
    const post = async (query: string) => {
      const res = await fetch(streamUrl, {
        method: "POST",
        headers: { accept: "text/event-stream", "content-type": "application/json", ...bearer(acme.key) },
        body: JSON.stringify({ query }),
      });
      return {
        status: res.status,
        codes: ((await res.json()) as FormattedExecutionResult).errors?.map((e) => e.extensions?.code),
      };
    };
    expect(await post(print(OrchestrationsDocument))).toEqual({ status: 400, codes: ["BAD_REQUEST"] });
    expect(await post("subscription { evolutionEvents { id ")).toEqual({
      status: 400,
      codes: ["GRAPHQL_PARSE_FAILED"],
    });
    expect(await post("subscription { evolutionEvents { nope } }")).toEqual({
      status: 400,
      codes: ["GRAPHQL_VALIDATION_FAILED"],
    });
    const padding = "#".repeat(CONFIG_DEFAULTS.maxDocumentBytes);
    expect(await post(`subscription { evolutionEvents { id } }\n${padding}`)).toEqual({
      status: 400,
      codes: ["BAD_USER_INPUT"],
    });
    const aliases = Array.from({ length: CONFIG_DEFAULTS.maxAliases + 1 }, (_, i) => `a${i}: id`).join(" ");
    expect(await post(`subscription { evolutionEvents { ${aliases} } }`)).toEqual({
      status: 400,
      codes: ["GRAPHQL_VALIDATION_FAILED"],
    });
  });

  it("end a stream whose key is revoked, with UNAUTHENTICATED", async () => {
    const doomed = await createTestKey(server.dataDir, "acme");
    const client = sseClient(doomed.key);
    try {
      const { results, connected } = subscribe(client, EvolutionEventsDocument);
      await connected;
      await doomed.revoke();
      const all: FormattedExecutionResult[] = [];
      for await (const r of results) all.push(r);
      expect(all.map((r) => r.errors?.[0]?.extensions?.code)).toEqual(["UNAUTHENTICATED"]);
    } finally {
      client.dispose();
    }
  });
});

describe("Server-Sent Events at shutdown", () => {
  it("close open streams without completing them, so clients reconnect elsewhere", async () => {
    const own = await startTestServer({ env: { VEX_SHUTDOWN_TIMEOUT_MS: "30000" } });
    const client = createClient({ url: `${own.url}/stream`, retryAttempts: 0 });
    try {
      const { results, connected } = subscribe(client, EvolutionEventsDocument);
      await connected;
      const ended = results.next().then(
        (r) => ({ completed: r.done }),
        (e: unknown) => ({ error: e }),
      );
      const stopping = own.stop();
      // Ended by the server at once, not after the drain timeout: the test's own timeout is shorter.
      expect(await ended).toMatchObject({ error: expect.any(Error) });
      await stopping;
    } finally {
      client.dispose();
      await removeDir(own.dataDir);
    }
  });
});
