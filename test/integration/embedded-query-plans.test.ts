import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  AgentsDocument,
  ExperimentsDocument,
  GenePoolDocument,
  InclusionProofDocument,
  LedgerConsistencyDocument,
  OrchestrationDocument,
  OrchestrationEventLogDocument,
  OrchestrationsDocument,
  PendingReviewsDocument,
  RulesDocument,
  RunProvenanceDocument,
  RunUsageDocument,
  StartOrchestrationDocument,
  SubmitReviewDocument,
  TenantUsageDocument,
} from "../../client/generated/graphql.js";
import { EMBEDDED_DB_FILE } from "../../src/adapters/embedded/sqlite.js";
import { request } from "../support/graphql.js";
import { removeDir, startTestServer, type TestServer } from "../support/server.js";
import { waitFor } from "../support/wait.js";

/**
 * Every statement the embedded store prepares while the API is used — runs with evolution and a
 * review, every list, lookup and proof — is answered from an index (SQLite's plan says SEARCH), so
 * its cost does not grow with the tenant's history. A plan that reads a whole table (SCAN) fails,
 * naming the statement.
 */

/** Runs started before the reads, so that every list has pages and the ledger has proofs. */
const RUNS = 3;
const WAIT = { timeoutMs: 60_000, intervalMs: 20 };

let server: TestServer;
const prepared = new Set<string>();

beforeAll(async () => {
  const prepare = Database.prototype.prepare;
  // Records the text of every statement prepared on any connection, then prepares it as usual.
  vi.spyOn(Database.prototype, "prepare").mockImplementation(function (this: Database.Database, sql) {
    prepared.add(sql);
    return prepare.call(this, sql);
  });
  server = await startTestServer();
});
afterAll(async () => {
  vi.restoreAllMocks();
  await server.stop();
  await removeDir(server.dataDir);
});

/** The API calls whose statements are checked: everything a client reads and writes. */
const useTheApi = async (url: string) => {
  const status = async (id: string) =>
    (await request(url, OrchestrationDocument, { id })).orchestration?.status;
  const ids: string[] = [];
  for (let i = 0; i < RUNS; i++) {
    const { startOrchestration } = await request(url, StartOrchestrationDocument, {
      input: { query: `plans ${i}`, evolution: "GENETIC", review: i === 0 ? { when: "FINAL" } : null },
    });
    ids.push(startOrchestration.id);
    const [first] = ids;
    if (i === 0 && first !== undefined) {
      await waitFor(async () => (await status(first)) === "AWAITING_REVIEW", WAIT);
      const pending = (await request(url, PendingReviewsDocument, { first: 10 })).pendingReviews.edges;
      await request(url, SubmitReviewDocument, {
        input: { orchestrationId: first, reviewId: pending[0]?.node.id ?? "", decision: "APPROVE" },
      });
    }
    await waitFor(async () => (await status(startOrchestration.id)) === "SUCCEEDED", WAIT);
  }
  const [id] = ids as [string];
  const page = await request(url, OrchestrationsDocument, { first: 1 });
  await request(url, OrchestrationsDocument, { first: 1, after: page.orchestrations.pageInfo.endCursor });
  await request(url, OrchestrationsDocument, { first: 5, status: "SUCCEEDED" });
  const agents = await request(url, AgentsDocument, { first: 2 });
  await request(url, AgentsDocument, { first: 2, after: agents.agents.pageInfo.endCursor, role: "CRITIC" });
  await request(url, AgentsDocument, { first: 5, orchestrationId: id });
  await request(url, OrchestrationEventLogDocument, { id, afterSeq: 2 });
  await request(url, RunProvenanceDocument, { id });
  const agentId = agents.agents.edges[0]?.node.id ?? "";
  const runOfAgent = agents.agents.edges[0]?.node.orchestrationId ?? id;
  await request(url, InclusionProofDocument, { orchestrationId: runOfAgent, agentId });
  await request(url, LedgerConsistencyDocument, { firstSize: 1, secondSize: RUNS });
  await request(url, RunUsageDocument, { id });
  await request(url, TenantUsageDocument, {
    since: new Date(0).toISOString(),
    until: new Date(Date.now() + 60_000).toISOString(),
  });
  await request(url, GenePoolDocument, {});
  await request(url, ExperimentsDocument, { first: 5 });
  await request(url, RulesDocument, { first: 5 });
  await request(url, PendingReviewsDocument, { first: 5 });
};

/** `?` placeholders of a statement (the stores' SQL has no string literals holding one). */
const parameterCount = (sql: string) => (sql.match(/\?/g) ?? []).length;

describe("embedded store query plans", () => {
  it("answers every statement the API makes from an index, never by reading a whole table", async () => {
    await useTheApi(server.url);
    const reads = [...prepared].filter((sql) => /^\s*(SELECT|UPDATE|DELETE|INSERT[\s\S]*SELECT)/i.test(sql));
    // Enough statements were seen for the check to mean something: lists, lookups, proofs, reviews.
    expect(reads.length).toBeGreaterThan(20);
    const db = new Database(join(server.dataDir, EMBEDDED_DB_FILE), { readonly: true });
    try {
      const scans = reads.flatMap((sql) => {
        const plan = db
          .prepare(`EXPLAIN QUERY PLAN ${sql}`)
          .all(...Array.from({ length: parameterCount(sql) }, () => null)) as { detail: string }[];
        return plan.filter((step) => /^SCAN /.test(step.detail)).map((step) => `${step.detail} ← ${sql}`);
      });
      expect(scans).toStrictEqual([]);
    } finally {
      db.close();
    }
  });
});
