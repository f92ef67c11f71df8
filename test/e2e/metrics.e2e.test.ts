import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  OrchestrationDocument,
  OrchestrationEventsDocument,
  StartOrchestrationDocument,
} from "../../client/generated/graphql.js";
import { collect, request, wsClient } from "../support/graphql.js";
import { sample, scrape as scrapeMetrics } from "../support/metrics.js";
import { removeDir, startTestServer, type TestServer } from "../support/server.js";
import { waitFor as waitUntil } from "../support/wait.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
  await removeDir(server.dataDir);
});

const scrape = () => scrapeMetrics(server.url);

describe("/metrics", () => {
  it("counts runs, LLM calls, tokens, debate rounds, store operations and sockets", async () => {
    const { startOrchestration: run } = await request(server.url, StartOrchestrationDocument, {
      input: { query: "q" },
    });
    const client = wsClient(server.wsUrl);
    const events = await collect(client, OrchestrationEventsDocument, { orchestrationId: run.id });
    const { orchestration } = await request(server.url, OrchestrationDocument, { id: run.id });
    const rounds = orchestration?.agents.reduce((n, a) => n + (a.result?.debate.rounds.length ?? 0), 0) ?? 0;

    const res = await fetch(server.url.replace("/graphql", "/metrics"));
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await scrape();
    expect(sample(text, "vex_runs_started_total")).toBe(1);
    expect(sample(text, 'vex_runs_finished_total{status="SUCCEEDED"}')).toBe(1);
    expect(sample(text, 'vex_llm_calls_total{kind="ANSWER",provider="default",outcome="ok"}')).toBe(2);
    expect(sample(text, 'vex_llm_calls_total{kind="SYNTHESIS",provider="default",outcome="ok"}')).toBe(1);
    expect(sample(text, 'vex_llm_tokens_total{type="completion"}')).toBe(
      orchestration?.tokensUsed.completionTokens,
    );
    const counted = ["AGREED", "CHALLENGED", "UNVERIFIED"]
      .map((o) => sample(text, `vex_debate_rounds_total{outcome="${o}"}`))
      .filter((n) => !Number.isNaN(n))
      .reduce((a, b) => a + b, 0);
    expect(counted).toBe(rounds);
    expect(
      sample(text, 'vex_store_operation_duration_seconds_count{operation="runs.create",outcome="ok"}'),
    ).toBe(1);
    expect(sample(text, "vex_event_publish_lag_seconds_count")).toBe(events.length);
    // The provenance and evolution stores' operations are timed as well: one ledger entry, its
    // signed checkpoint and the anchor's receipt for the run; its agents' fitness in the gene pool.
    for (const operation of ["ledger.append", "checkpoints.put", "receipts.add", "genePools.addFitness"]) {
      expect(
        sample(text, `vex_store_operation_duration_seconds_count{operation="${operation}",outcome="ok"}`),
        operation,
      ).toBe(1);
    }
    await client.dispose();

    // A subscription that stays open: agentTokens of a finished run never ends by itself.
    const open = wsClient(server.wsUrl);
    const tokens = open.iterate({
      query: `subscription { agentTokens(orchestrationId: "${run.id}") { text } }`,
    });
    void tokens.next();
    await waitFor(async () => sample(await scrape(), "vex_ws_subscriptions") === 1);
    expect(sample(await scrape(), "vex_ws_connections")).toBe(1);
    await open.dispose();
    await waitFor(async () => sample(await scrape(), "vex_ws_connections") === 0);
  });

  it("times the checkpoints of the embedded database's write-ahead log, made on their worker thread", async () => {
    await request(server.url, StartOrchestrationDocument, { input: { query: "checkpointed?" } });
    // The worker checkpoints every 200 ms; a run's writes give it pages to copy.
    await waitFor(
      async () =>
        sample(await scrape(), 'vex_embedded_wal_checkpoint_duration_seconds_count{outcome="ok"}') >= 1,
    );
    expect(
      sample(await scrape(), 'vex_embedded_wal_checkpoint_duration_seconds_count{outcome="error"}'),
    ).toBeNaN();
  });
});

const waitFor = (check: () => Promise<boolean>) => waitUntil(check, { timeoutMs: 3_000 });
