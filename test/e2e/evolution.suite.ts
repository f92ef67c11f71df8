import type { FormattedExecutionResult } from "graphql";
import { print } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  EvolutionEventsDocument,
  type EvolutionEventsSubscription,
  EvolutionRecordsDocument,
  ExperimentsDocument,
  GenePoolDocument,
  OrchestrationDocument,
  OrchestrationEventLogDocument,
  RulesDocument,
  StartOrchestrationDocument,
  TraitCorrelationsDocument,
} from "../../client/generated/graphql.js";
import { gradedScript } from "../fakes/graded-llm.js";
import { ScriptedLlm } from "../fakes/scripted-llm.js";
import type { ServerBackend } from "../support/backends.js";
import { collect, request, runEvents, wsClient } from "../support/graphql.js";
import { removeDir, startTestServer, type TestServer } from "../support/server.js";

/**
 * Evolution over the real server, run once per backend: evolution.e2e.test.ts (embedded store)
 * and mongo-evolution.e2e.test.ts (MongoDB and the Redis bus).
 */
/**
 * The consolidation test needs 24 runs one after another (consolidation starts at 70 experiments, 3
 * per run; fewer runs cannot reach it). Measured on a 2-core machine at load average 11: ~3 s in all
 * on the embedded store, ~110 s on FerretDB (its SQLite backend is what slows down). 300 s leaves
 * that slowest case close to three times its measured time.
 */
const CONSOLIDATION_TIMEOUT_MS = 300_000;

export const evolutionSuite = (backend: ServerBackend) => {
  const RULE = "Lower exploration keeps critics on topic";
  const llm = new ScriptedLlm(
    gradedScript({
      CONSOLIDATION: JSON.stringify({ rules: [{ rule: RULE, traits: ["exploration"], confidence: 0.8 }] }),
    }),
  );

  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ llm, env: await backend.env() });
  });
  afterAll(async () => {
    await server.stop();
    await removeDir(server.dataDir);
    await backend.cleanup();
  });

  /** Starts a run through the mutation and waits until its event stream completes. */
  const runToEnd = async (input: {
    query: string;
    evolution: "OFF" | "GENETIC" | "SELF_CORRECTING";
    seed?: number;
  }) => {
    const { startOrchestration: run } = await request(server.url, StartOrchestrationDocument, { input });
    await runEvents(server.wsUrl, { orchestrationId: run.id });
    return run;
  };

  describe(`evolution over the real server (${backend.name})`, () => {
    it("streams GENETIC records on evolutionEvents, stores them in the run's log, and the next run uses the offspring", async () => {
      const client = wsClient(server.wsUrl);
      const live = client.iterate({ query: print(EvolutionEventsDocument) });
      const received: FormattedExecutionResult<EvolutionEventsSubscription>[] = [];
      const reading = (async () => {
        for await (const r of live) {
          received.push(r as FormattedExecutionResult<EvolutionEventsSubscription>);
          if (received.length === 3) return;
        }
      })();
      // A query on the same socket after the subscribe message: once it answers, the subscription is live.
      await new Promise<void>((resolve, reject) =>
        client.subscribe(
          { query: print(GenePoolDocument) },
          { next: () => {}, error: reject, complete: resolve },
        ),
      );

      const runs = [];
      for (let i = 0; i < 3; i++)
        runs.push(await runToEnd({ query: `genetic ${i}`, evolution: "GENETIC", seed: 40 + i }));
      await reading;
      await client.dispose();

      const records = received.map((r) => {
        expect(r.errors).toBeUndefined();
        return r.data?.evolutionEvents;
      });
      expect(records.map((r) => r?.orchestrationId)).toEqual(runs.map((r) => r.id));
      expect(records.every((r) => r?.kind === "GENETIC" && r.parentGenomeIds.length > 0)).toBe(true);

      // Each record is also the run's one EvolutionApplied event, stored in its log before RunFinished.
      for (const [i, run] of runs.entries()) {
        const log =
          (await request(server.url, OrchestrationEventLogDocument, { id: run.id })).orchestration?.events ??
          [];
        expect(log.at(-1)?.__typename).toBe("RunFinished");
        const applied = log.filter((e) => e.__typename === "EvolutionApplied");
        expect(applied).toHaveLength(1);
        expect(applied[0]?.__typename === "EvolutionApplied" && applied[0].record).toEqual(records[i]);
      }

      // The pool's current genome for the last evolved role is the last offspring, and the next run uses it.
      const last = records.at(-1);
      const { genePool } = await request(server.url, GenePoolDocument, {});
      const entry = genePool.find((p) => p.role === last?.role);
      expect(entry?.genome.id).toBe(last?.offspringGenomeId);
      expect(entry?.genome.exploration).toBe(last?.after.exploration);
      expect(entry?.historySize).toBeGreaterThanOrEqual(1);
      const next = await runToEnd({ query: "after evolution", evolution: "OFF" });
      const { orchestration } = await request(server.url, OrchestrationDocument, { id: next.id });
      const agent = orchestration?.agents.find((a) => a.role === last?.role);
      // The same genome; only the agent's shows the parameters its requests carried (a pool entry's are null).
      expect({ ...agent?.genome, llmParams: null }).toEqual(entry?.genome);
      expect(agent?.genome.llmParams?.presencePenalty).toBe(
        Math.round((agent?.genome.creativity ?? 0) * 1e4) / 1e4,
      );

      const listed = await request(server.url, EvolutionRecordsDocument, { first: 2 });
      expect(listed.evolutionRecords.edges.map((e) => e.node.id)).toEqual([records[2]?.id, records[1]?.id]);
    });

    it("reads experiments, correlations and learned rules through the queries", {
      timeout: CONSOLIDATION_TIMEOUT_MS,
    }, async () => {
      const before = (await request(server.url, ExperimentsDocument, { first: 1 })).experiments.edges.length;
      expect(before).toBe(0);
      // 24 SELF_CORRECTING runs × 3 agents = 72 experiments: consolidation at 70 turns the 50 oldest into a rule.
      const runs = [];
      for (let i = 0; i < 24; i++)
        runs.push(await runToEnd({ query: `self ${i}`, evolution: "SELF_CORRECTING", seed: 100 + i }));

      const page1 = await request(server.url, ExperimentsDocument, { first: 10 });
      expect(page1.experiments.edges).toHaveLength(10);
      expect(page1.experiments.pageInfo.hasNextPage).toBe(true);
      expect(page1.experiments.edges[0]?.node.orchestrationId).toBe(runs.at(-1)?.id);
      const page2 = await request(server.url, ExperimentsDocument, {
        first: 100,
        after: page1.experiments.pageInfo.endCursor,
      });
      const all = [...page1.experiments.edges, ...page2.experiments.edges].map((e) => e.node);
      expect(all).toHaveLength(72 - 50);
      expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
      const times = all.map((e) => Date.parse(e.recordedAt));
      expect([...times].sort((a, b) => b - a)).toEqual(times);

      const { traitCorrelations } = await request(server.url, TraitCorrelationsDocument, {});
      expect(traitCorrelations.map((c) => c.trait)).toEqual([
        "exploration",
        "precision",
        "creativity",
        "skepticism",
        "verbosity",
      ]);
      expect(
        traitCorrelations.every(
          (c) => c.sampleSize === 22 && c.role === null && Math.abs(c.correlation) <= 1,
        ),
      ).toBe(true);

      const { rules } = await request(server.url, RulesDocument, { first: 5 });
      expect(
        rules.edges.map((e) => [e.node.description, e.node.traits, e.node.sourceExperimentCount]),
      ).toEqual([[RULE, ["exploration"], 50]]);
      // The rule now guides every agent's system prompt.
      const guided = await runToEnd({ query: "guided", evolution: "OFF" });
      const prompts = llm.requests.filter((r) => r.tag.runId === guided.id && r.tag.kind === "ANSWER");
      expect(prompts.length).toBeGreaterThan(0);
      for (const r of prompts) expect(r.system).toContain(RULE);
    });

    it("rejects a bad page size with BAD_USER_INPUT", async () => {
      const client = wsClient(server.wsUrl);
      try {
        const [result] = await collect(client, ExperimentsDocument, { first: 0 });
        expect(result?.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
      } finally {
        await client.dispose();
      }
    });
  });
};
