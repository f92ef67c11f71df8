import { describe, expect, it } from "vitest";
import type { AnchorReceipt } from "../../src/domain/anchor.js";
import { ErrorCode } from "../../src/domain/errors.js";
import type { Agent } from "../../src/domain/run.js";
import { eventView } from "../../src/resolvers/event-view.js";
import { createLoaders } from "../../src/resolvers/loaders.js";
import { anAgent, anAgentResult, anEvent, aTranscriptEntry } from "../fixtures/builders.js";
import { aReceipt } from "../fixtures/provenance-builders.js";
import { expectAppError } from "../support/assertions.js";

const TENANT = "tenant-a";
const RUN = "run-view";

/** Loaders over records held here, counting the reads that reach them. */
const loadersOver = (agents: Map<string, Agent>, receipts: AnchorReceipt[]) => {
  const reads = { agents: 0, receipts: 0 };
  const loaders = createLoaders({
    tenantId: TENANT,
    agents: {
      listByRuns: async () => [],
      getMany: async (_tenantId, ids) => {
        reads.agents++;
        return ids.flatMap((id) => agents.get(id) ?? []);
      },
    },
    provenance: {
      inclusionProofs: async () => [],
      receipts: async () => {
        reads.receipts++;
        return [...receipts];
      },
    },
  });
  return { loaders, reads };
};

describe("eventView: events name the records they announce", () => {
  it("shows an AgentStarted's agent as it started, although it has completed since", async () => {
    const agent = anAgent({
      runId: RUN,
      state: "COMPLETED",
      result: anAgentResult(),
      fitness: 0.75,
      transcript: [aTranscriptEntry()],
      completedAt: new Date(Date.UTC(2026, 0, 2)),
      llmParams: { temperature: 0.5, topP: 0.9, presencePenalty: 0, frequencyPenalty: 0, maxTokens: 256 },
    });
    const { loaders } = loadersOver(new Map([[agent.id, agent]]), []);
    const view = await eventView(
      anEvent({ runId: RUN, body: { type: "AgentStarted", agentId: agent.id } }),
      loaders,
    );
    expect(view).toMatchObject({
      type: "AgentStarted",
      agent: {
        id: agent.id,
        role: agent.role,
        genome: { id: agent.genome.id },
        llmParams: agent.llmParams,
        createdAt: agent.createdAt,
        state: "RUNNING",
        fitness: null,
        result: null,
        error: null,
        completedAt: null,
      },
    });
    expect((view as { agent: Agent }).agent.transcript).toEqual([]);
  });

  it("reads an agent again once when the one read before had not completed yet", async () => {
    const running = anAgent({ runId: RUN, state: "RUNNING" });
    const agents = new Map([[running.id, running]]);
    const { loaders, reads } = loadersOver(agents, []);
    await eventView(anEvent({ runId: RUN, body: { type: "AgentStarted", agentId: running.id } }), loaders);
    agents.set(running.id, { ...running, state: "COMPLETED", result: anAgentResult() });
    const view = await eventView(
      anEvent({ runId: RUN, seq: 2, body: { type: "AgentCompleted", agentId: running.id } }),
      loaders,
    );
    expect(view).toMatchObject({ agent: { id: running.id, state: "COMPLETED" } });
    expect(reads.agents).toBe(2);
  });

  it("finds an AnchorRecorded's receipt among the run's, reading them again once for one added since", async () => {
    const first = aReceipt({ seq: 0 });
    const second = { ...aReceipt({ seq: 1 }), backend: "mongo" };
    const receipts = [first];
    const { loaders, reads } = loadersOver(new Map(), receipts);
    const named = (r: AnchorReceipt, seq: number) =>
      anEvent({
        runId: RUN,
        seq,
        body: { type: "AnchorRecorded", backend: r.backend, recordHash: r.recordHash },
      });
    expect(await eventView(named(first, 1), loaders)).toMatchObject({ receipt: first });
    receipts.push(second);
    expect(await eventView(named(second, 2), loaders)).toMatchObject({ receipt: second });
    expect(reads.receipts).toBe(2);
  });

  it("fails as an internal error, naming the event, when the record it names is not stored", async () => {
    const { loaders } = loadersOver(new Map(), [aReceipt()]);
    await expectAppError(
      eventView(
        anEvent({ runId: RUN, seq: 3, body: { type: "AgentStarted", agentId: "agent-gone" } }),
        loaders,
      ),
      ErrorCode.Internal,
    );
    const unanchored = await expectAppError(
      eventView(
        anEvent({
          runId: RUN,
          seq: 4,
          body: { type: "AnchorRecorded", backend: "file", recordHash: "0".repeat(64) },
        }),
        loaders,
      ),
      ErrorCode.Internal,
    );
    expect(unanchored.message).toContain(`AnchorRecorded event #4 of run ${RUN}`);
  });
});
