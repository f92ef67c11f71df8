import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AgentDocument,
  AgentsDocument,
  type EventFieldsFragment,
  OrchestrationDocument,
  OrchestrationEventLogDocument,
  OrchestrationEventsDocument,
  OrchestrationsDocument,
  RunProvenanceDocument,
  StartOrchestrationDocument,
} from "../../client/generated/graphql.js";
import { collect, execute, request, runEvents, wsClient } from "../support/graphql.js";
import { removeDir, startTestServer, type TestServer } from "../support/server.js";

/**
 * The end-to-end suite of one run through the real server, run once per store: the embedded store
 * (server.e2e.test.ts) and MongoDB (mongo-server.e2e.test.ts).
 */
export const serverSuite = (options: {
  env: () => Promise<Record<string, string>>;
  cleanup?: () => Promise<void>;
}) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: await options.env() });
  });
  afterAll(async () => {
    await server.stop();
    await removeDir(server.dataDir);
    await options.cleanup?.();
  });

  const events = async (id: string, afterSeq?: number) => {
    const results = await runEvents(server.wsUrl, { orchestrationId: id, afterSeq });
    for (const r of results) expect(r.errors).toBeUndefined();
    return results.map((r) => r.data?.orchestrationEvents as EventFieldsFragment);
  };

  const startRun = async (query = "Why is the sky blue?") =>
    (await request(server.url, StartOrchestrationDocument, { input: { query } })).startOrchestration;

  describe("one orchestration run end to end", () => {
    it("streams the exact event sequence and matches what the queries read back", async () => {
      const started = await startRun();
      expect(started.status).toBe("PENDING");
      expect(started.config).toMatchObject({
        maxDepth: 2,
        agentsPerLevel: 2,
        maxDebateRounds: 3,
        evolution: "OFF",
      });
      expect(started.model).toContain("offline");

      const stream = await events(started.id);
      expect(stream.map((e) => e.seq)).toEqual(stream.map((_, i) => i + 1));
      expect(stream[0]?.__typename).toBe("RunStarted");
      expect(stream.at(-1)?.__typename).toBe("RunFinished");

      const { orchestration: run } = await request(server.url, OrchestrationDocument, { id: started.id });
      expect(run?.status).toBe("SUCCEEDED");
      const agents = run?.agents ?? [];
      expect(agents.map((a) => a.role)).toEqual(["ROOT", "RESEARCHER", "CRITIC"]);

      // The exact sequence: RunStarted, per agent AgentStarted … its rounds … AgentCompleted, RunFinished.
      const ofType = <T extends EventFieldsFragment["__typename"]>(t: T) =>
        stream.filter((e): e is Extract<EventFieldsFragment, { __typename: T }> => e.__typename === t);
      expect(ofType("RunStarted")).toHaveLength(1);
      expect(
        ofType("AgentStarted")
          .map((e) => e.agent.id)
          .sort(),
      ).toEqual(agents.map((a) => a.id).sort());
      expect(
        ofType("AgentCompleted")
          .map((e) => e.agent.id)
          .sort(),
      ).toEqual(agents.map((a) => a.id).sort());
      expect(ofType("AgentFailed")).toHaveLength(0);
      // … plus one AnchorRecorded per anchor backend (the file anchor by default) before RunFinished.
      expect(ofType("AnchorRecorded").map((e) => e.receipt.entry.runId)).toEqual([started.id]);
      expect(stream.at(-2)?.__typename).toBe("AnchorRecorded");
      expect(stream).toHaveLength(
        3 + 2 * agents.length + agents.reduce((n, a) => n + (a.result?.debate.rounds.length ?? 0), 0),
      );
      for (const agent of agents) {
        const rounds = ofType("DebateRoundCompleted").filter((e) => e.agentId === agent.id);
        expect(rounds.map((r) => r.round)).toEqual(agent.result?.debate.rounds.map((r) => r.round));
        expect(rounds.map((r) => r.debateRound.outcome)).toEqual(
          agent.result?.debate.rounds.map((r) => r.outcome),
        );
        const startIdx = stream.findIndex((e) => e.__typename === "AgentStarted" && e.agent.id === agent.id);
        const doneIdx = stream.findIndex((e) => e.__typename === "AgentCompleted" && e.agent.id === agent.id);
        for (const r of rounds) {
          expect(stream.indexOf(r)).toBeGreaterThan(startIdx);
          expect(stream.indexOf(r)).toBeLessThan(doneIdx);
        }
        const completed = ofType("AgentCompleted").find((e) => e.agent.id === agent.id);
        expect(completed?.result).toMatchObject({
          response: agent.result?.response,
          confidence: agent.result?.confidence,
          verified: agent.result?.verified,
          contextHash: agent.result?.contextHash,
          leafIndex: agent.result?.leafIndex,
        });
      }
      const finished = ofType("RunFinished")[0];
      expect(finished).toMatchObject({
        status: "SUCCEEDED",
        response: run?.response,
        confidence: run?.confidence,
        merkleRoot: run?.merkleRoot,
      });
      expect(run?.merkleRoot).toMatch(/^[0-9a-f]{64}$/);
      expect(run?.leafOrder).toEqual(agents.map((a) => a.id));

      // Stored events read back through the query equal the streamed ones.
      const log = await request(server.url, OrchestrationEventLogDocument, { id: started.id });
      expect(log.orchestration?.events).toEqual(stream);
      // Events name the agent and the receipt they announce: an agent started shows as it started
      // although it has completed since, and the receipt is the one stored for the run.
      expect(ofType("AgentStarted").map((e) => e.agent.state)).toEqual(agents.map(() => "RUNNING"));
      expect(agents.map((a) => a.state)).toEqual(agents.map(() => "COMPLETED"));
      const { orchestration: anchored } = await request(server.url, RunProvenanceDocument, {
        id: started.id,
      });
      expect(ofType("AnchorRecorded").map((e) => e.receipt)).toEqual(
        anchored?.anchorReceipts.map(({ backend, anchorId, seq, recordHash, entry }) => ({
          backend,
          anchorId,
          seq,
          recordHash,
          entry: { runId: entry.runId, treeSize: entry.treeSize, rootHash: entry.rootHash },
        })),
      );

      // The agent queries agree with the run's agents.
      const one = await request(server.url, AgentDocument, { id: agents[1]?.id ?? "" });
      expect(one.agent).toEqual(agents[1]);
      const listed = await request(server.url, AgentsDocument, { orchestrationId: started.id, first: 10 });
      expect(listed.agents.edges.map((e) => e.node.id).sort()).toEqual(agents.map((a) => a.id).sort());
      const researchers = await request(server.url, AgentsDocument, {
        orchestrationId: started.id,
        role: "RESEARCHER",
      });
      expect(researchers.agents.edges.map((e) => e.node.role)).toEqual(["RESEARCHER"]);
    });

    it("replays exactly k+1…N to a late subscriber with afterSeq=k, then completes", async () => {
      const started = await startRun("replay me");
      const all = await events(started.id);
      const k = 4;
      const tail = await events(started.id, k);
      expect(tail).toEqual(all.slice(k));
      expect(tail[0]?.seq).toBe(k + 1);
      expect(await events(started.id, all.length)).toEqual([]);
    });

    it("lists runs newest first with working cursors", async () => {
      const a = await startRun("first");
      const b = await startRun("second");
      await events(b.id);
      const page1 = await request(server.url, OrchestrationsDocument, { first: 1 });
      expect(page1.orchestrations.edges[0]?.node.id).toBe(b.id);
      expect(page1.orchestrations.pageInfo.hasNextPage).toBe(true);
      const page2 = await request(server.url, OrchestrationsDocument, {
        first: 1,
        after: page1.orchestrations.pageInfo.endCursor,
      });
      expect(page2.orchestrations.edges[0]?.node.id).toBe(a.id);
    });
  });

  describe("bad input gets clear errors and the server keeps serving", () => {
    it("rejects an empty query with BAD_USER_INPUT", async () => {
      const result = await execute(server.url, StartOrchestrationDocument, { input: { query: "  " } });
      expect(result.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
      expect(result.errors?.[0]?.message).toMatch(/query must not be empty/);
    });

    it("answers null for an unknown orchestration id and NOT_FOUND on its event stream", async () => {
      const result = await request(server.url, OrchestrationDocument, { id: "no-such-run" });
      expect(result.orchestration).toBeNull();
      const client = wsClient(server.wsUrl);
      try {
        const results = await collect(client, OrchestrationEventsDocument, {
          orchestrationId: "no-such-run",
        });
        expect(results).toHaveLength(1);
        expect(results[0]?.errors).toEqual([expect.objectContaining({ extensions: { code: "NOT_FOUND" } })]);
      } finally {
        await client.dispose();
      }
    });

    it("rejects a malformed or negative afterSeq", async () => {
      const started = await startRun("x");
      const client = wsClient(server.wsUrl);
      try {
        const results = await collect(client, OrchestrationEventsDocument, {
          orchestrationId: started.id,
          afterSeq: -1,
        });
        expect(results[0]?.errors).toEqual([
          expect.objectContaining({ extensions: { code: "BAD_USER_INPUT", argument: "afterSeq" } }),
        ]);
        const mistyped = await collect(client, OrchestrationEventsDocument, {
          orchestrationId: started.id,
          afterSeq: "abc" as unknown as number,
        });
        expect(mistyped[0]?.errors).toEqual([
          expect.objectContaining({
            message: expect.stringMatching(/afterSeq/),
            extensions: { code: "BAD_USER_INPUT" },
          }),
        ]);
        const bad = await fetch(server.url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            query: 'query($s: Int) { orchestration(id: "x") { events(afterSeq: $s) { seq } } }',
            variables: { s: "abc" },
          }),
        });
        const body = (await bad.json()) as { errors: { extensions: { code: string } }[] };
        expect(bad.status).toBe(400);
        expect(body.errors[0]?.extensions.code).toBe("BAD_USER_INPUT");
      } finally {
        await client.dispose();
      }
      const health = await fetch(server.url.replace("/graphql", "/healthz"));
      expect(health.status).toBe(200);
      const ready = await fetch(server.url.replace("/graphql", "/readyz"));
      expect(await ready.json()).toEqual({ status: "ready" });
    });
  });
};
