import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError, ErrorCode } from "../../src/domain/errors.js";
import { LLM_PARAM_NAMES, MODEL_PROFILES, makeTraits, paramsForProfile } from "../../src/domain/genome.js";
import type { LlmCallTag, LlmClient, LlmRequest } from "../../src/ports/llm.js";

export interface LlmClientContractInit {
  readonly name: string;
  /** A client and how to release what it uses. */
  create(): Promise<{ llm: LlmClient; destroy(): Promise<void> }>;
}

const tag = (overrides: Partial<LlmCallTag> = {}): LlmCallTag => ({
  tenantId: "tenant-contract",
  runId: "run-contract",
  agentId: "agent-contract",
  role: "RESEARCHER",
  kind: "ANSWER",
  round: 0,
  ...overrides,
});

/** A request with the genome's parameters for the client's own profile. */
const aRequest = (llm: LlmClient, overrides: Partial<LlmRequest> = {}): LlmRequest => ({
  system: "You are a careful researcher.",
  messages: [{ role: "user", content: "Is water wet?" }],
  params: paramsForProfile(llm.profile ?? "classic", makeTraits({ exploration: 0.3, precision: 0.8 }), {
    classic: 400,
    reasoning: 2_000,
  }),
  tag: tag(),
  ...overrides,
});

const isCount = (n: number | undefined) => n === undefined || (Number.isInteger(n) && n >= 0);

/** Behaviour every LlmClient adapter must have (ports/llm.ts). */
export const llmClientContract = (init: LlmClientContractInit) =>
  describe(`LlmClient contract: ${init.name}`, () => {
    let client: Awaited<ReturnType<LlmClientContractInit["create"]>>;
    beforeAll(async () => {
      client = await init.create();
    });
    afterAll(async () => {
      await client.destroy();
    });

    it("names its model and a known profile", () => {
      expect(client.llm.model).toMatch(/\S/);
      expect(MODEL_PROFILES).toContain(client.llm.profile ?? "classic");
    });

    it("answers with text, the model, whole-number usage, and the parameters it sent", async () => {
      const request = aRequest(client.llm);
      const res = await client.llm.complete(request);
      expect(res.content).toMatch(/\S/);
      expect(res.model).toMatch(/\S/);
      const u = res.usage;
      for (const n of [u.promptTokens, u.completionTokens, u.totalTokens, u.reasoningTokens]) {
        expect(isCount(n)).toBe(true);
      }
      expect(u.totalTokens).toBeGreaterThanOrEqual(u.promptTokens);
      // What was sent is part of what was asked for: nothing added, nothing changed.
      const sent = res.params ?? request.params;
      for (const name of LLM_PARAM_NAMES) {
        if (sent[name] !== undefined) expect(sent[name]).toBe(request.params[name]);
      }
      expect(sent.maxTokens).toBe(request.params.maxTokens);
      expect(client.llm.effectiveParams?.(request.params) ?? request.params).toEqual(sent);
    });

    it("hands every piece of the answer to onToken, in order", async () => {
      const pieces: string[] = [];
      const res = await client.llm.complete(aRequest(client.llm), { onToken: (t) => pieces.push(t) });
      expect(pieces.length).toBeGreaterThan(0);
      expect(pieces.join("")).toBe(res.content);
    });

    it("answers a shadow's JSON-mode call with one JSON object", async () => {
      const res = await client.llm.complete(
        aRequest(client.llm, { json: true, tag: tag({ role: "CRITIC", kind: "CHALLENGE", round: 1 }) }),
      );
      const verdict = JSON.parse(res.content) as Record<string, unknown>;
      expect(typeof verdict.isChallenge).toBe("boolean");
      expect(typeof verdict.confidence).toBe("number");
    });

    it("rejects with CANCELLED when the signal is already aborted", async () => {
      const outcome = await client.llm.complete(aRequest(client.llm), { signal: AbortSignal.abort() }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(outcome).toBeInstanceOf(AppError);
      expect((outcome as AppError).code).toBe(ErrorCode.Cancelled);
    });

    it("rejects with the abort reason itself when that is an AppError", async () => {
      const reason = new AppError(ErrorCode.Interrupted, "Interrupted by server shutdown.");
      await expect(
        client.llm.complete(aRequest(client.llm), { signal: AbortSignal.abort(reason) }),
      ).rejects.toBe(reason);
    });
  });
