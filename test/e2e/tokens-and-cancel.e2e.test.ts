import { print } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AgentTokensDocument,
  type AgentTokensSubscription,
  CancelOrchestrationDocument,
  OrchestrationDocument,
  StartOrchestrationDocument,
} from "../../client/generated/graphql.js";
import type { LlmClient } from "../../src/ports/llm.js";
import { defaultScript, ScriptedLlm } from "../fakes/scripted-llm.js";
import { request, wsClient } from "../support/graphql.js";
import { removeDir, startTestServer, type TestServer } from "../support/server.js";
import { waitFor } from "../support/wait.js";

let server: TestServer;
const scripted = new ScriptedLlm((req, turn) => {
  if (req.tag.kind === "ANSWER" && req.tag.role === "CRITIC" && gate.hang) return { hang: true };
  return req.tag.kind === "ANSWER" ? `${req.tag.role} streamed answer` : defaultScript(req, turn);
});
const gate = { hang: false, heard: false };
/** A token sent while nobody has subscribed yet: tokens are live-only, so it may be lost. */
const PROBE = "…";
/** How often an ANSWER call repeats its probe token until the test hears one. */
const PROBE_INTERVAL_MS = 10;
/**
 * Tokens are live-only, so an ANSWER call first repeats a probe token until the test's subscription
 * has received one (the subscription is then registered), and only then streams its answer.
 */
const llm: LlmClient = {
  model: scripted.model,
  complete: async (req, options) => {
    if (req.tag.kind === "ANSWER" && !gate.hang) {
      while (!gate.heard && !options?.signal?.aborted) {
        options?.onToken?.(PROBE);
        await new Promise((r) => setTimeout(r, PROBE_INTERVAL_MS));
      }
    }
    return scripted.complete(req, options);
  },
};

beforeAll(async () => {
  server = await startTestServer({ llm });
});
afterAll(async () => {
  await server.stop();
  await removeDir(server.dataDir);
});

describe("agentTokens", () => {
  it("streams each agent's LLM output live, tagged with the agent", async () => {
    gate.hang = false;
    const { startOrchestration: run } = await request(server.url, StartOrchestrationDocument, {
      input: { query: "q" },
    });
    const client = wsClient(server.wsUrl);
    const tokens: AgentTokensSubscription["agentTokens"][] = [];
    try {
      const sub = client.iterate({
        query: print(AgentTokensDocument),
        variables: { orchestrationId: run.id },
      });
      for await (const r of sub) {
        expect(r.errors).toBeUndefined();
        gate.heard = true;
        const token = (r.data as AgentTokensSubscription).agentTokens;
        if (token.text !== PROBE) tokens.push(token);
        if (tokens.some((t) => t.kind === "SYNTHESIS")) break;
      }
    } finally {
      await client.dispose();
    }
    const { orchestration } = await request(server.url, OrchestrationDocument, { id: run.id });
    const ids = new Map(orchestration?.agents.map((a) => [a.role, a.id]));
    expect(
      tokens
        .filter((t) => t.kind === "ANSWER")
        .map((t) => [t.agentId, t.text])
        .sort(),
    ).toEqual(
      [
        [ids.get("CRITIC"), "CRITIC streamed answer"],
        [ids.get("RESEARCHER"), "RESEARCHER streamed answer"],
      ].sort(),
    );
    expect(tokens.every((t) => t.orchestrationId === run.id)).toBe(true);
  });
});

describe("cancelOrchestration", () => {
  it("ends a hanging run CANCELLED and keeps the results completed before", async () => {
    gate.hang = true;
    const { startOrchestration: run } = await request(server.url, StartOrchestrationDocument, {
      input: { query: "q" },
    });
    await waitFor(async () => {
      const { orchestration } = await request(server.url, OrchestrationDocument, { id: run.id });
      return orchestration?.agents.find((a) => a.role === "RESEARCHER")?.state === "COMPLETED";
    });
    const started = Date.now();
    const { cancelOrchestration } = await request(server.url, CancelOrchestrationDocument, { id: run.id });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(cancelOrchestration).toMatchObject({ status: "CANCELLED", error: { code: "CANCELLED" } });
    const { orchestration } = await request(server.url, OrchestrationDocument, { id: run.id });
    const researcher = orchestration?.agents.find((a) => a.role === "RESEARCHER");
    expect(researcher?.result?.response).toBe("RESEARCHER streamed answer");
    expect(orchestration?.agents.find((a) => a.role === "CRITIC")?.state).toBe("CANCELLED");
    // Cancelling a finished run changes nothing.
    const again = await request(server.url, CancelOrchestrationDocument, { id: run.id });
    expect(again.cancelOrchestration.status).toBe("CANCELLED");
  });
});
