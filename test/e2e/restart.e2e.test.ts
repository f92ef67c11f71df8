import { describe, expect, it } from "vitest";
import { OrchestrationDocument, StartOrchestrationDocument } from "../../client/generated/graphql.js";
import { request, runEvents } from "../support/graphql.js";
import { makeDataDir, removeDir, startTestServer } from "../support/server.js";

const finish = (wsUrl: string, orchestrationId: string) => runEvents(wsUrl, { orchestrationId });

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
