import { print } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  OrchestrationEventLogDocument,
  OrchestrationEventsDocument,
  StartOrchestrationDocument,
} from "../../client/generated/graphql.js";
import type { LlmClient } from "../../src/ports/llm.js";
import { ScriptedLlm } from "../fakes/scripted-llm.js";
import { request } from "../support/graphql.js";
import { openRaw, subscribe } from "../support/raw-ws.js";
import { removeDir, startTestServer, type TestServer } from "../support/server.js";

/**
 * "Replays, then continues live, without gaps or duplicates" through graphql-ws, with a server whose
 * bus keeps one undelivered message per subscriber (VEX_SUBSCRIBER_BUFFER=1): the events of agents
 * finishing together are published faster than one subscription forwards them, so the bus drops
 * some and the server reads them back from the log (test/unit/run-events-gap-fill.test.ts proves
 * the mechanism event by event). With the gap fill disabled in run-events.ts this test fails: the
 * drops do happen here.
 */

/** An LLM whose calls all wait for `release()`, so that 16 leaf agents finish together. */
const gatedLlm = () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const inner = new ScriptedLlm();
  const llm: LlmClient = {
    model: inner.model,
    complete: async (req, options) => {
      await gate;
      return inner.complete(req, options);
    },
  };
  return { llm, release };
};

const EVENTS = print(OrchestrationEventsDocument);
const gated = gatedLlm();
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ llm: gated.llm, env: { VEX_SUBSCRIBER_BUFFER: "1" } });
});
afterAll(async () => {
  gated.release();
  await server.stop();
  await removeDir(server.dataDir);
});

type Next = { payload: { data: { orchestrationEvents: { seq: number; __typename: string } } } };

describe("a live subscriber with a one-message bus buffer", () => {
  it("receives every seq of a bursty run exactly once, equal to the stored log", async () => {
    const { startOrchestration: run } = await request(server.url, StartOrchestrationDocument, {
      input: { query: "burst", maxDepth: 3, agentsPerLevel: 4, maxDebateRounds: 1 },
    });
    const socket = await openRaw(server.wsUrl);
    try {
      socket.send(subscribe("s", EVENTS, { orchestrationId: run.id, afterSeq: 0 }));
      // Live before the burst: the replay of what is stored so far has arrived.
      await socket.waitFor((f) => f.type === "next" && f.id === "s");
      gated.release();
      await socket.waitFor((f) => f.type === "complete" && f.id === "s", 60_000);

      const seqs = socket.frames
        .filter((f) => f.type === "next" && f.id === "s")
        .map((f) => (f as unknown as Next).payload.data.orchestrationEvents.seq);
      const { orchestration } = await request(server.url, OrchestrationEventLogDocument, { id: run.id });
      const stored = orchestration?.events.map((e) => e.seq) ?? [];
      expect(stored.length).toBeGreaterThan(21);
      expect(seqs).toEqual(stored);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
      expect(orchestration?.events.at(-1)?.__typename).toBe("RunFinished");
    } finally {
      socket.socket.terminate();
    }
  }, 90_000);
});
