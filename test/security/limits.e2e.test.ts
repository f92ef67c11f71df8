import { type GraphQLFormattedError, parse, print, specifiedRules, validate } from "graphql";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { OrchestrationDocument, StartOrchestrationDocument } from "../../client/generated/graphql.js";
import { CONFIG_DEFAULTS, loadConfig } from "../../src/config.js";
import { checkDocument, createArmor } from "../../src/server/limits.js";
import { buildVexSchema } from "../../src/server/schema.js";
import { loadClientOperations, placeholderVariables } from "../support/client-operations.js";
import { execute, request, wsClient } from "../support/graphql.js";
import { waitForSample } from "../support/metrics.js";
import { removeDir, startTestServer, type TestServer } from "../support/server.js";

interface HttpResult {
  status: number;
  contentType: string | null;
  text: string;
  body: { data?: Record<string, unknown> | null; errors?: GraphQLFormattedError[] };
}

const post = async (url: string, body: string, headers: Record<string, string> = {}): Promise<HttpResult> => {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get("content-type"), text, body: JSON.parse(text) };
};
const postQuery = (url: string, query: string, variables?: Record<string, unknown>) =>
  post(url, JSON.stringify({ query, variables }));

/** Runs one operation over graphql-ws with the official client; returns every error it got. */
const overWs = async (server: TestServer, query: string, variables?: Record<string, unknown>) => {
  const client = wsClient(server.wsUrl);
  const errors: GraphQLFormattedError[] = [];
  let data: unknown;
  try {
    for await (const r of client.iterate({ query, ...(variables ? { variables } : {}) })) {
      errors.push(...(r.errors ?? []));
      data ??= r.data;
    }
  } catch (e) {
    if (!Array.isArray(e)) throw e;
    errors.push(...(e as GraphQLFormattedError[]));
  } finally {
    await client.dispose();
  }
  return { errors, data };
};

const servers: TestServer[] = [];
const start = async (env: Record<string, string> = {}) => {
  const server = await startTestServer({ env });
  servers.push(server);
  return server;
};
afterAll(async () => {
  for (const s of servers) {
    await s.stop();
    await removeDir(s.dataDir);
  }
});

let dev: TestServer;
beforeAll(async () => {
  dev = await start();
});

describe("document limits (GraphQL Armor + token count), the same on HTTP and WebSocket", () => {
  let tight: TestServer;
  beforeAll(async () => {
    tight = await start({
      VEX_MAX_QUERY_DEPTH: "3",
      VEX_MAX_QUERY_COST: "50",
      VEX_MAX_ALIASES: "2",
      VEX_MAX_DIRECTIVES: "2",
      VEX_MAX_TOKENS: "40",
      VEX_MAX_DOCUMENT_BYTES: "1024",
    });
  });

  const cases = [
    { limit: "depth", query: "{ orchestrations { edges { node { id } } } }", message: /depth limit of 3/ },
    {
      limit: "cost",
      query: "{ orchestrations(first: 100) { pageInfo { hasNextPage } } }",
      message: /Cost limit of 50/,
    },
    {
      limit: "aliases",
      query: `{ ${["a", "b", "c"].map((a) => `${a}: orchestrations { pageInfo { hasNextPage } }`).join(" ")} }`,
      message: /Aliases limit of 2/,
    },
    {
      limit: "directives",
      query:
        "{ __typename @skip(if: false) orchestrations @skip(if: false) { pageInfo @skip(if: false) { hasNextPage } } }",
      message: /Directives limit of 2/,
    },
    { limit: "tokens", query: `{ ${"__typename ".repeat(50)}}`, message: /Token limit of 40/ },
  ];

  it.each(cases)("refuses a document over the $limit limit with GRAPHQL_VALIDATION_FAILED", async (c) => {
    const http = await postQuery(tight.url, c.query);
    expect(http.status).toBe(400);
    expect(http.body.errors).toHaveLength(1);
    expect(http.body.errors?.[0]).toMatchObject({
      message: expect.stringMatching(c.message),
      extensions: { code: "GRAPHQL_VALIDATION_FAILED" },
    });
    expect(http.body.data).toBeUndefined();

    const ws = await overWs(tight, c.query);
    expect(ws.data).toBeUndefined();
    expect(ws.errors).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(c.message),
        extensions: expect.objectContaining({ code: "GRAPHQL_VALIDATION_FAILED" }),
      }),
    ]);
  });

  it("accepts a document within every limit on both transports", async () => {
    const query = "{ orchestrations { pageInfo { hasNextPage } } }";
    const http = await postQuery(tight.url, query);
    expect(http.status).toBe(200);
    expect(http.body.errors).toBeUndefined();
    const ws = await overWs(tight, query);
    expect(ws.errors).toEqual([]);
    expect(ws.data).toEqual(http.body.data);
  });

  it("reports a syntax error as GRAPHQL_PARSE_FAILED (400), never as a server error", async () => {
    for (const query of ["{ orchestrations { ", "query {", "}}}", '{ a(x: "unterminated) }']) {
      const http = await postQuery(tight.url, query);
      expect(http.status, query).toBe(400);
      expect(http.body.errors?.[0]?.extensions?.code, query).toBe("GRAPHQL_PARSE_FAILED");
      const ws = await overWs(tight, query);
      expect(ws.errors[0]?.extensions?.code, query).toBe("GRAPHQL_PARSE_FAILED");
      expect(ws.errors[0]?.message).toBe(http.body.errors?.[0]?.message);
    }
  });

  it(`refuses a document over ${CONFIG_DEFAULTS.maxDocumentBytes} bytes with BAD_USER_INPUT (HTTP 400)`, async () => {
    const limit = CONFIG_DEFAULTS.maxDocumentBytes;
    const padded = (bytes: number) => {
      const head = "{ __typename } #";
      return head + "x".repeat(bytes - head.length);
    };
    const atLimit = await postQuery(dev.url, padded(limit));
    expect(atLimit.status).toBe(200);
    expect(atLimit.body.data).toEqual({ __typename: "Query" });

    const over = await postQuery(dev.url, padded(limit + 1));
    expect(over.status).toBe(400);
    expect(over.body.errors).toEqual([
      {
        message: `The GraphQL document is ${limit + 1} bytes; the limit is ${limit}.`,
        extensions: { code: "BAD_USER_INPUT", limit },
      },
    ]);
    // GET is guarded too (on a server with a 1 KiB limit: a 16 KiB URL would exceed Node's header limit).
    const get = await fetch(`${tight.url}?query=${encodeURIComponent(padded(1025))}`, {
      headers: { "apollo-require-preflight": "true" },
    });
    expect(get.status).toBe(400);
    expect(((await get.json()) as HttpResult["body"]).errors?.[0]?.extensions).toEqual({
      code: "BAD_USER_INPUT",
      limit: 1024,
    });

    const ws = await overWs(dev, padded(limit + 1));
    expect(ws.errors).toEqual([
      expect.objectContaining({
        extensions: { code: "BAD_USER_INPUT", limit },
        message: over.body.errors?.[0]?.message,
      }),
    ]);
  });
});

describe("HTTP request hygiene", () => {
  it("answers an oversized JSON body with 413 and a JSON error, not an HTML page", async () => {
    const res = await post(
      dev.url,
      JSON.stringify({ query: "{ __typename }", variables: { x: "y".repeat(200_000) } }),
    );
    expect(res.status).toBe(413);
    expect(res.contentType).toMatch(/^application\/json/);
    expect(res.body.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(res.text).not.toMatch(/<html|<pre|at \w+ \(/i);
  });

  it("answers a malformed JSON body with 400 and a JSON error", async () => {
    for (const body of ["{bad json", '{"query": ', "\u0000", '"just a string"', "null"]) {
      const res = await post(dev.url, body);
      expect(res.status, body).toBe(400);
      expect(res.contentType).toMatch(/^application\/json/);
      expect(res.body.errors?.[0]?.extensions?.code).toMatch(/^(BAD_USER_INPUT|BAD_REQUEST)$/);
      expect(res.text).not.toMatch(/<html|<pre|at \w+ \(/i);
    }
  });

  it("keeps batching off: a JSON array body is refused", async () => {
    const res = await post(
      dev.url,
      JSON.stringify([{ query: "{ __typename }" }, { query: "{ __typename }" }]),
    );
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.message).toMatch(/batching/i);
  });

  it("refuses a subscription over HTTP with 400 BAD_REQUEST instead of running its resolvers", async () => {
    for (const query of [
      "subscription { evolutionEvents { id } }",
      'subscription { orchestrationEvents(orchestrationId: "x") { seq } }',
      'subscription { agentTokens(orchestrationId: "x") { text } }',
    ]) {
      const res = await postQuery(dev.url, query);
      expect(res.status, query).toBe(400);
      expect(res.body.errors).toEqual([
        { message: expect.stringMatching(/WebSocket/), extensions: { code: "BAD_REQUEST" } },
      ]);
    }
  });

  it("keeps CSRF prevention on: a simple GET is refused, a preflighted one is served", async () => {
    const url = `${dev.url}?query=${encodeURIComponent("{ __typename }")}`;
    const simple = await fetch(url);
    expect(simple.status).toBe(400);
    expect(await simple.text()).toMatch(/Cross-Site Request Forgery/);
    const textPlain = await post(dev.url, JSON.stringify({ query: "{ __typename }" }), {
      "content-type": "text/plain",
    });
    expect(textPlain.status).toBe(400);

    const preflight = await fetch(url, { headers: { "apollo-require-preflight": "true" } });
    expect(preflight.status).toBe(200);
    expect(await preflight.json()).toEqual({ data: { __typename: "Query" } });
    const json = await fetch(url, { headers: { "content-type": "application/json" } });
    expect(json.status).toBe(200);
  });
});

describe("production hardening", () => {
  let prod: TestServer;
  let prodIntrospection: TestServer;
  beforeAll(async () => {
    prod = await start({ NODE_ENV: "production" });
    prodIntrospection = await start({ NODE_ENV: "production", VEX_INTROSPECTION: "true" });
  });
  const INTROSPECTION = [
    "{ __schema { queryType { name } } }",
    '{ __type(name: "Query") { name } }',
    "query { orchestrations { __typename } __schema { types { name } } }",
  ];

  it("refuses introspection when NODE_ENV=production, on HTTP and WebSocket", async () => {
    for (const query of INTROSPECTION) {
      const http = await postQuery(prod.url, query);
      expect(http.status, query).toBe(400);
      expect(http.body.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
      expect(http.body.errors?.[0]?.message).toMatch(/introspection/i);
      const ws = await overWs(prod, query);
      expect(ws.data, query).toBeUndefined();
      expect(ws.errors[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
      expect(ws.errors[0]?.message).toMatch(/introspection/i);
    }
    // __typename is not introspection.
    expect((await postQuery(prod.url, "{ __typename }")).body.data).toEqual({ __typename: "Query" });
  });

  it("allows introspection again with VEX_INTROSPECTION=true, and in development", async () => {
    for (const server of [prodIntrospection, dev]) {
      const http = await postQuery(server.url, INTROSPECTION[0] as string);
      expect(http.body.data).toEqual({ __schema: { queryType: { name: "Query" } } });
      const ws = await overWs(server, INTROSPECTION[0] as string);
      expect(ws.data).toEqual(http.body.data);
    }
  });

  it("hides field and enum suggestions in production, on HTTP and WebSocket", async () => {
    const typo = "{ orchestrationz { pageInfo { hasNextPage } } }";
    const enumTypo = "query($s: RunStatus) { orchestrations(status: $s) { pageInfo { hasNextPage } } }";
    const messages = async (server: TestServer) => {
      const http = [
        await postQuery(server.url, typo),
        await postQuery(server.url, enumTypo, { s: "RUNNNING" }),
      ];
      const ws = [await overWs(server, typo), await overWs(server, enumTypo, { s: "RUNNNING" })];
      return [...http.map((r) => r.body.errors ?? []), ...ws.map((r) => r.errors)].map((errors) => {
        expect(errors).toHaveLength(1);
        return errors[0]?.message ?? "";
      });
    };
    for (const message of await messages(dev)) expect(message).toMatch(/Did you mean/);
    const hidden = await messages(prod);
    for (const message of hidden) {
      expect(message).not.toMatch(/Did you mean|"orchestrations"|"RUNNING"/);
      expect(message).toMatch(/\[Suggestion hidden\]/);
    }
    // Both transports word it the same.
    expect(hidden[2]).toBe(hidden[0]);
    expect(hidden[3]).toBe(hidden[1]);
  });
});

describe("internal errors are masked", () => {
  const SECRET = "db password=hunter2 at /srv/vex/secret.db";
  const expectMasked = (errors: readonly GraphQLFormattedError[] | undefined, raw: string) => {
    expect(errors?.[0]).toMatchObject({
      message: "Internal server error.",
      extensions: { code: "INTERNAL_SERVER_ERROR" },
    });
    expect(Object.keys(errors?.[0]?.extensions ?? {})).toEqual(["code"]);
    expect(raw).not.toContain("hunter2");
    expect(raw).not.toMatch(/stacktrace|\.ts:\d+|at async/);
  };

  it("a store that throws a plain Error yields INTERNAL_SERVER_ERROR with no message or stack, on HTTP", async () => {
    const spy = vi.spyOn(dev.app.store.runs, "get").mockRejectedValue(new Error(SECRET));
    try {
      const res = await postQuery(dev.url, print(OrchestrationDocument), { id: "any" });
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ orchestration: null });
      expectMasked(res.body.errors, res.text);
      expect(res.body.errors?.[0]?.path).toEqual(["orchestration"]);
    } finally {
      spy.mockRestore();
    }
  });

  it("… and on WebSocket, whether the subscription fails at once or midway", async () => {
    const { startOrchestration: run } = await request(dev.url, StartOrchestrationDocument, {
      input: { query: "mask me" },
    });
    const events =
      "subscription($id: ID!) { orchestrationEvents(orchestrationId: $id, afterSeq: 0) { seq } }";
    const atOnce = vi.spyOn(dev.app.store.runs, "get").mockRejectedValue(new Error(SECRET));
    try {
      const ws = await overWs(dev, events, { id: run.id });
      expectMasked(ws.errors, JSON.stringify(ws.errors));
    } finally {
      atOnce.mockRestore();
    }
    const midway = vi.spyOn(dev.app.store.events, "list").mockRejectedValue(new Error(SECRET));
    try {
      const ws = await overWs(dev, events, { id: run.id });
      expectMasked(ws.errors, JSON.stringify(ws.errors));
    } finally {
      midway.mockRestore();
    }
  });

  it("no error carries a stack trace even when Apollo would think it is in development", async () => {
    const before = process.env.NODE_ENV;
    process.env.NODE_ENV = "development";
    let server: TestServer;
    try {
      server = await start();
    } finally {
      process.env.NODE_ENV = before;
    }
    for (const query of [
      "{ nope }",
      "{ orchestrations { ",
      "{ orchestrations(first: 0) { pageInfo { hasNextPage } } }",
    ]) {
      const res = await postQuery(server.url, query);
      expect(res.body.errors?.length, query).toBeGreaterThan(0);
      expect(res.text, query).not.toMatch(/stacktrace|node_modules|\.ts:\d+/);
    }
  });
});

describe("input limits over the API: BAD_USER_INPUT naming the field", () => {
  const start = (input: Record<string, unknown>) =>
    execute(dev.url, StartOrchestrationDocument, { input: { query: "q", ...input } as never });

  it.each([
    { field: "maxDepth", input: { maxDepth: 5 } },
    { field: "maxDepth", input: { maxDepth: 0 } },
    { field: "agentsPerLevel", input: { agentsPerLevel: 5 } },
    { field: "maxDebateRounds", input: { maxDebateRounds: 6 } },
    { field: "query", input: { query: "q".repeat(8_001) } },
    { field: "query", input: { query: "   " } },
  ])("startOrchestration refuses $field in $input", async ({ field, input }) => {
    const res = await start(input);
    expect(res.data).toBeNull();
    expect(res.errors?.[0]).toMatchObject({
      message: expect.stringContaining(field),
      extensions: { code: "BAD_USER_INPUT", field },
    });
  });

  it("accepts the largest allowed values", async () => {
    const ok = await start({ query: "q".repeat(8_000), maxDepth: 4, agentsPerLevel: 1, maxDebateRounds: 5 });
    expect(ok.errors).toBeUndefined();
    const wide = await start({ maxDepth: 1, agentsPerLevel: 4 });
    expect(wide.errors).toBeUndefined();
  });

  it.each(["orchestrations", "agents", "experiments", "rules"])(
    "%s(first: 101) is refused, first: 100 accepted",
    async (field) => {
      const over = await postQuery(dev.url, `{ ${field}(first: 101) { pageInfo { hasNextPage } } }`);
      expect(over.body.errors?.[0]).toMatchObject({
        message: expect.stringContaining("first"),
        extensions: { code: "BAD_USER_INPUT" },
      });
      const max = await postQuery(dev.url, `{ ${field}(first: 100) { pageInfo { hasNextPage } } }`);
      expect(max.body.errors).toBeUndefined();
    },
  );
});

describe("our own client is never refused", () => {
  const operations = loadClientOperations();

  it("finds the operations", () => {
    expect(operations.length).toBeGreaterThanOrEqual(10);
    expect(operations.map((o) => o.name)).toEqual(
      expect.arrayContaining(["StartOrchestration", "Orchestration", "Agents", "OrchestrationEvents"]),
    );
  });

  it("every operation passes the default limits with the server's own rules", async () => {
    const { limits } = loadConfig({});
    const schema = await buildVexSchema();
    const armor = createArmor(limits, false);
    for (const op of operations) {
      expect(checkDocument(op.source, limits), op.name).toBeNull();
      const document = parse(op.source, { maxTokens: limits.maxTokens });
      expect(
        validate(schema, document, armor.validationRules).map((e) => e.message),
        `${op.name}: limits`,
      ).toEqual([]);
      expect(
        validate(schema, document, [...specifiedRules, ...armor.validationRules]).map((e) => e.message),
        `${op.name}: schema`,
      ).toEqual([]);
    }
  });

  it("every operation is accepted by the running server at the default limits", async () => {
    const REFUSED = new Set(["GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"]);
    for (const op of operations) {
      const variables = placeholderVariables(op);
      if (op.kind === "subscription") {
        // The server counts an operation only once it has passed the limits and validation; a live
        // subscription that sends nothing is accepted as soon as it is counted.
        await waitForSample(dev.url, "vex_ws_subscriptions", (n) => n === 0);
        const client = wsClient(dev.wsUrl);
        const first = await new Promise<readonly GraphQLFormattedError[]>((resolve) => {
          // Once the operation has been answered, this watch may time out unheard: nothing is waiting.
          waitForSample(dev.url, "vex_ws_subscriptions", (n) => n >= 1).then(
            () => resolve([]),
            () => undefined,
          );
          client.subscribe(
            { query: op.source, variables },
            {
              next: (r) => resolve(r.errors ?? []),
              error: (e) =>
                resolve(Array.isArray(e) ? (e as GraphQLFormattedError[]) : [{ message: String(e) }]),
              complete: () => resolve([]),
            },
          );
        });
        await client.dispose();
        for (const e of first)
          expect(REFUSED.has(String(e.extensions?.code)), `${op.name}: ${e.message}`).toBe(false);
      } else {
        const res = await postQuery(dev.url, op.source, variables);
        expect(res.status, `${op.name}: ${res.text}`).not.toBe(400);
        for (const e of res.body.errors ?? []) {
          expect(REFUSED.has(String(e.extensions?.code)), `${op.name}: ${e.message}`).toBe(false);
        }
      }
    }
  });
});
