import { type FormattedExecutionResult, getNamedType, isObjectType } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildVexSchema } from "../../src/server/schema.js";
import { createKeyFor, type ServerBackend } from "../support/backends.js";
import { wsClient } from "../support/graphql.js";
import { bearer } from "../support/keys.js";
import { makeDataDir, removeDir, startTestServer, type TestServer } from "../support/server.js";
import { evolutionProbes } from "./evolution-probes.js";
import { provenanceProbes } from "./provenance-probes.js";
import { reviewProbes } from "./review-probes.js";

/**
 * Every root operation, probed as tenant B against tenant A's ids: another tenant's id must behave
 * exactly like an id that does not exist. A root field without a probe fails the suite. Run once
 * per backend: tenant-isolation.e2e.test.ts and mongo-tenant-isolation.e2e.test.ts.
 */
export const tenantIsolationSuite = (backend: ServerBackend) => {
  let server: TestServer;
  let dataDir: string;
  let keyA: string;
  let keyB: string;
  const a = { runId: "", agentId: "" };
  const UNKNOWN = "00000000-0000-4000-8000-000000000000";

  const gql = async (key: string, query: string, variables: Record<string, unknown> = {}) => {
    const res = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json", ...bearer(key) },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as FormattedExecutionResult<Record<string, unknown>>;
  };
  /** The first result of a subscription (for these probes: the error it answers with). */
  const subscribe = async (key: string, query: string, variables: Record<string, unknown>) => {
    const client = wsClient(server.wsUrl, key);
    try {
      const results: FormattedExecutionResult[] = [];
      for await (const r of client.iterate({ query, variables })) {
        results.push(r as FormattedExecutionResult);
        break;
      }
      return results;
    } finally {
      await client.dispose();
    }
  };
  /** The result with one id replaced, so "their id" and "no such id" can be compared exactly. */
  const normalise = (value: unknown, id: string) => JSON.parse(JSON.stringify(value).replaceAll(id, "<id>"));

  /** As B: A's id and an unknown id give identical results. */
  const sameAsUnknown = async (run: (id: string) => Promise<unknown>, theirId: string) => {
    const theirs = normalise(await run(theirId), theirId);
    const unknown = normalise(await run(UNKNOWN), UNKNOWN);
    expect(theirs).toEqual(unknown);
    return theirs;
  };

  const probes: Record<string, () => Promise<void>> = {
    "Query.orchestration": async () => {
      const r = await sameAsUnknown(
        (id) => gql(keyB, "query($id: ID!) { orchestration(id: $id) { id } }", { id }),
        a.runId,
      );
      expect(r).toEqual({ data: { orchestration: null } });
    },
    "Query.orchestrations": async () => {
      const r = await gql(keyB, "{ orchestrations(first: 100) { edges { node { id } } } }");
      expect(JSON.stringify(r)).not.toContain(a.runId);
      expect(r.errors).toBeUndefined();
    },
    "Query.usage": async () => {
      // A window holding every run: B's bill counts B's runs and only those.
      const window = {
        since: new Date(0).toISOString(),
        until: new Date(Date.UTC(3000, 0, 1)).toISOString(),
      };
      const bill = await gql(
        keyB,
        "query($since: DateTime!, $until: DateTime!) { usage(since: $since, until: $until) { runs usage { total { totalTokens } } } }",
        window,
      );
      const own = await gql(
        keyB,
        "{ orchestrations(first: 100) { edges { node { id tokensUsed { totalTokens } } } } }",
      );
      expect(bill.errors).toBeUndefined();
      expect(own.errors).toBeUndefined();
      const runs = (
        own.data!.orchestrations as { edges: { node: { tokensUsed: { totalTokens: number } } }[] }
      ).edges;
      const usage = bill.data!.usage as { runs: number; usage: { total: { totalTokens: number } } };
      expect(usage.runs).toBe(runs.length);
      expect(usage.usage.total.totalTokens).toBe(
        runs.reduce((sum, e) => sum + e.node.tokensUsed.totalTokens, 0),
      );
      const theirs = await gql(
        keyA,
        "query($since: DateTime!, $until: DateTime!) { usage(since: $since, until: $until) { runs } }",
        window,
      );
      expect((theirs.data!.usage as { runs: number }).runs).toBeGreaterThan(0);
    },
    "Query.agent": async () => {
      const r = await sameAsUnknown(
        (id) => gql(keyB, "query($id: ID!) { agent(id: $id) { id } }", { id }),
        a.agentId,
      );
      expect(r).toEqual({ data: { agent: null } });
    },
    "Query.agents": async () => {
      await sameAsUnknown(
        (id) =>
          gql(keyB, "query($id: ID) { agents(orchestrationId: $id) { edges { node { id } } } }", { id }),
        a.runId,
      );
      const all = await gql(keyB, "{ agents(first: 100) { edges { node { id orchestrationId } } } }");
      expect(JSON.stringify(all)).not.toContain(a.runId);
    },
    "Mutation.startOrchestration": async () => {
      const r = await gql(keyB, 'mutation { startOrchestration(input: { query: "b" }) { id } }');
      const id = (r.data as { startOrchestration: { id: string } }).startOrchestration.id;
      expect((await gql(keyA, "query($id: ID!) { orchestration(id: $id) { id } }", { id })).data).toEqual({
        orchestration: null,
      });
    },
    "Mutation.cancelOrchestration": async () => {
      const r = await sameAsUnknown(
        (id) => gql(keyB, "mutation($id: ID!) { cancelOrchestration(id: $id) { id status } }", { id }),
        a.runId,
      );
      expect(r.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    },
    "Mutation.resumeOrchestration": async () => {
      const r = await sameAsUnknown(
        (id) => gql(keyB, "mutation($id: ID!) { resumeOrchestration(id: $id) { id status } }", { id }),
        a.runId,
      );
      expect(r.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    },
    "Subscription.orchestrationEvents": async () => {
      const r = await sameAsUnknown(
        (id) =>
          subscribe(keyB, "subscription($id: ID!) { orchestrationEvents(orchestrationId: $id) { seq } }", {
            id,
          }),
        a.runId,
      );
      expect(r[0]?.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    },
    "Subscription.agentTokens": async () => {
      const r = await sameAsUnknown(
        (id) =>
          subscribe(keyB, "subscription($id: ID!) { agentTokens(orchestrationId: $id) { text } }", { id }),
        a.runId,
      );
      expect(r[0]?.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    },
    ...evolutionProbes({ gql, key: (t) => (t === "a" ? keyA : keyB), wsUrl: () => server.wsUrl }),
    ...reviewProbes({ gql, key: (t) => (t === "a" ? keyA : keyB), unknownId: UNKNOWN }),
    ...provenanceProbes({
      gql,
      key: (t) => (t === "a" ? keyA : keyB),
      runA: () => a,
      wsUrl: () => server.wsUrl,
    }),
  };

  beforeAll(async () => {
    dataDir = await makeDataDir();
    const env = await backend.env();
    keyA = (await createKeyFor(env, dataDir, "tenant-a")).key;
    keyB = (await createKeyFor(env, dataDir, "tenant-b")).key;
    server = await startTestServer({ dataDir, env });
    const started = await gql(keyA, 'mutation { startOrchestration(input: { query: "a" }) { id } }');
    a.runId = (started.data as { startOrchestration: { id: string } }).startOrchestration.id;
    for await (const _ of wsClient(server.wsUrl, keyA).iterate({
      query: "subscription($id: ID!) { orchestrationEvents(orchestrationId: $id) { seq } }",
      variables: { id: a.runId },
    })) {
      // drain until the run finishes
    }
    const read = await gql(keyA, "query($id: ID!) { orchestration(id: $id) { agents { id } } }", {
      id: a.runId,
    });
    a.agentId =
      (read.data as { orchestration: { agents: { id: string }[] } }).orchestration.agents[0]?.id ?? "";
  });
  afterAll(async () => {
    await server.stop();
    await removeDir(dataDir);
    await backend.cleanup();
  });

  describe(`tenant isolation (${backend.name})`, () => {
    it("has a probe for every root operation in the schema", async () => {
      const schema = await buildVexSchema();
      const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()];
      const fields = roots.flatMap((t) =>
        t && isObjectType(getNamedType(t)) ? Object.keys(t.getFields()).map((f) => `${t.name}.${f}`) : [],
      );
      expect(Object.keys(probes).sort()).toEqual(fields.sort());
    });

    it("lets tenant A read its own run (the probes' baseline is real)", async () => {
      const r = await gql(keyA, "query($id: ID!) { orchestration(id: $id) { id status } }", { id: a.runId });
      expect(r.data?.orchestration).toMatchObject({ id: a.runId, status: "SUCCEEDED" });
      expect(a.agentId).not.toBe("");
    });

    for (const [field, probe] of Object.entries(probes)) {
      it(`${field}: another tenant's id behaves like an unknown id`, probe);
    }
  });
};
