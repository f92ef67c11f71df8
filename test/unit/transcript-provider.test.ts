import { describe, expect, it } from "vitest";
import { recomputeTraceRoot } from "../../client/proofs.js";
import { modelsCalled } from "../../src/domain/answer-change.js";
import { type TranscriptEntry, transcriptRoot } from "../../src/domain/transcript.js";

const entry = (provider?: string): TranscriptEntry => ({
  index: 0,
  kind: "ANSWER",
  round: 0,
  request: { system: "s", messages: [{ role: "user", content: "q" }], params: { maxTokens: 8 }, json: false },
  response: { content: "a", model: "m", ...(provider === undefined ? {} : { provider }) },
});

/** The entry as the API shows it (provider null when not recorded). */
const view = (e: TranscriptEntry) => ({
  ...e,
  request: {
    ...e.request,
    messages: e.request.messages.map((m) => ({ ...m })),
    params: Object.entries(e.request.params).map(([name, value]) => ({
      name,
      value: value as number,
      text: null,
    })),
  },
  response: {
    content: e.response.content,
    model: e.response.model,
    provider: e.response.provider ?? null,
    usage: null,
  },
});

describe("the provider in transcript entries", () => {
  it("leaves entries recorded without a provider hashing as before, so old runs still verify", () => {
    const old = entry();
    // The pre-provider hash covered exactly {content, model}; the client rebuilds that shape.
    expect(recomputeTraceRoot([view(old)])).toBe(transcriptRoot([old]));
  });

  it("hashes the provider when recorded, so changing it breaks verification", () => {
    const routed = entry("judge");
    expect(recomputeTraceRoot([view(routed)])).toBe(transcriptRoot([routed]));
    expect(transcriptRoot([routed])).not.toBe(transcriptRoot([entry()]));
    expect(
      recomputeTraceRoot([{ ...view(routed), response: { ...view(routed).response, provider: "default" } }]),
    ).not.toBe(transcriptRoot([routed]));
  });

  it("lists the distinct provider:model pairs, the model alone where no provider was recorded", () => {
    expect(modelsCalled([entry("default"), entry("judge"), entry("judge"), entry()])).toEqual([
      "default:m",
      "judge:m",
      "m",
    ]);
  });
});
