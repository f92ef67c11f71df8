import { describe, expect, it } from "vitest";
import type { LlmParams } from "../../src/domain/genome.js";
import { copyAgent, withLazyTranscript } from "../../src/domain/lazy-transcript.js";
import { toAgentView } from "../../src/resolvers/mappers.js";
import { anAgent, anAgentResult, aTranscriptEntry } from "../fixtures/builders.js";

/** An agent as a store reads it, counting how often its transcript is decoded. */
const lazily = () => {
  const transcript = [aTranscriptEntry(), aTranscriptEntry({ index: 1 })];
  // Agents carry the parameters their requests were sent with (older ones only in their transcript).
  const llmParams: LlmParams = { temperature: 0.8, topP: 0.75, maxTokens: 512 };
  const eager = anAgent({ state: "COMPLETED", result: anAgentResult(), transcript, llmParams });
  const { transcript: _stored, ...rest } = eager;
  let decoded = 0;
  const agent = withLazyTranscript({ ...rest }, () => {
    decoded++;
    return transcript;
  });
  return { agent, eager, decoded: () => decoded };
};

describe("lazily decoded transcripts", () => {
  it("decode on the first read only, and equal the agent read eagerly", () => {
    const { agent, eager, decoded } = lazily();
    expect(decoded()).toBe(0);
    expect(agent.transcript).toEqual(eager.transcript);
    expect(agent.transcript).toBe(agent.transcript);
    expect(decoded()).toBe(1);
    expect(agent).toStrictEqual(eager);
  });

  it("stay undecoded through copyAgent; a spread copy decodes", () => {
    const { agent, eager, decoded } = lazily();
    const copy = copyAgent(agent);
    expect(decoded()).toBe(0);
    expect(copy).toEqual(eager);
    expect(decoded()).toBe(1);
    const other = lazily();
    expect({ ...other.agent }).toEqual(other.eager);
    expect(other.decoded()).toBe(1);
  });

  it("are not decoded by the GraphQL view unless a query reads `models`", () => {
    const { agent, eager, decoded } = lazily();
    const view = toAgentView(agent);
    expect([view.orchestrationId, view.genome, view.result?.agentId]).toEqual([
      agent.runId,
      expect.objectContaining({ id: agent.genome.id }),
      agent.id,
    ]);
    expect(decoded()).toBe(0);
    expect(view.models).toEqual(toAgentView(eager).models);
    expect(decoded()).toBe(1);
  });
});
