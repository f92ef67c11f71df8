import { describe, expect, it } from "vitest";
import {
  OrchestrationDocument,
  OrchestrationEventsDocument,
  StartOrchestrationDocument,
} from "../../client/generated/graphql.js";
import { defaultScript, ScriptedLlm } from "../fakes/scripted-llm.js";
import { collect, request, wsClient } from "../support/graphql.js";
import { makeDataDir, removeDir, startTestServer } from "../support/server.js";

const finish = async (wsUrl: string, orchestrationId: string) => {
  const client = wsClient(wsUrl);
  try {
    return await collect(client, OrchestrationEventsDocument, { orchestrationId });
  } finally {
    await client.dispose();
  }
};

describe("restart", () => {
  it("keeps runs, agents and events in the data dir across a restart", async () => {
    const dataDir = await makeDataDir();
    try {
      const first = await startTestServer({ dataDir });
      const { startOrchestration: run } = await request(first.url, StartOrchestrationDocument, {
        input: { query: "persist me" },
      });
      const streamed = await finish(first.wsUrl, run.id);
      const before = await request(first.url, OrchestrationDocument, { id: run.id });
      await first.stop();

      const second = await startTestServer({ dataDir });
      try {
        const after = await request(second.url, OrchestrationDocument, { id: run.id });
        expect(after.orchestration?.status).toBe("SUCCEEDED");
        expect(after).toEqual(before);
        expect(after.orchestration?.agents).toHaveLength(3);
        expect(await finish(second.wsUrl, run.id)).toEqual(streamed);
      } finally {
        await second.stop();
      }
    } finally {
      await removeDir(dataDir);
    }
  });
});

describe("concurrency", () => {
  it("overlaps ten runs started at once at the LLM", async () => {
    const RUNS = 10;
    const llm = new ScriptedLlm((req, turn) =>
      req.tag.kind === "ANSWER"
        ? { content: `${req.tag.role} answer`, delayMs: 150 }
        : defaultScript(req, turn),
    );
    const server = await startTestServer({ llm, env: { VEX_MAX_CONCURRENT_RUNS_PER_TENANT: "10" } });
    try {
      const runs = await Promise.all(
        Array.from({ length: RUNS }, (_, i) =>
          request(server.url, StartOrchestrationDocument, { input: { query: `question ${i}` } }),
        ),
      );
      const finals = await Promise.all(runs.map((r) => finish(server.wsUrl, r.startOrchestration.id)));
      for (const events of finals) {
        expect(events.at(-1)?.data?.orchestrationEvents).toMatchObject({
          __typename: "RunFinished",
          status: "SUCCEEDED",
        });
      }
      expect(llm.maxRunsInFlight).toBe(RUNS);
      expect(llm.maxInFlight).toBe(RUNS * 2);
    } finally {
      await server.stop();
      await removeDir(server.dataDir);
    }
  });
});
