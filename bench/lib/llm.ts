import type { LlmCallOptions, LlmClient, LlmRequest, LlmResponse } from "../../src/ports/llm.js";

export const AGREE = JSON.stringify({
  isChallenge: false,
  confidence: 0.9,
  reasoning: "Holds up.",
  suggestedRevision: null,
});
export const CHALLENGE = JSON.stringify({
  isChallenge: true,
  confidence: 0.8,
  reasoning: "Unsupported step.",
  suggestedRevision: null,
});
const USAGE = { promptTokens: 10, completionTokens: 5, totalTokens: 15 } as const;

export interface BenchLlmOptions {
  /** The shadow challenges every round (debates run to maxDebateRounds); else it agrees at once. */
  readonly challenge?: boolean;
  /** Delay of every call, ms (0: answers in the same tick, no timer). */
  readonly delayMs?: number;
}

/** The reply text for a call: a verdict for shadow calls, a short text otherwise. */
export const replyFor = (request: LlmRequest, challenge: boolean): string => {
  const { kind, role, round } = request.tag;
  if (kind === "CHALLENGE" || kind === "REPAIR") return challenge ? CHALLENGE : AGREE;
  return `${role} ${kind.toLowerCase()} ${round}: a short considered reply.`;
};

/**
 * An in-process LlmClient for benchmarks: answers at once (or after `delayMs`), records nothing, and
 * can hold every call at a gate until `open()` — so that subscribers can be in place before a run's
 * events start to flow.
 */
export const createBenchLlm = (options: BenchLlmOptions = {}) => {
  const challenge = options.challenge ?? false;
  const delayMs = options.delayMs ?? 0;
  let gate: Promise<void> | null = null;
  let release: () => void = () => {};
  let waiting = 0;
  let calls = 0;
  const client: LlmClient = {
    model: "bench-instant",
    async complete(request: LlmRequest, opts?: LlmCallOptions): Promise<LlmResponse> {
      calls++;
      if (gate !== null) {
        waiting++;
        await gate;
        waiting--;
      }
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      const content = replyFor(request, challenge);
      opts?.onToken?.(content);
      return { content, model: "bench-instant", usage: USAGE };
    },
  };
  return {
    client,
    /** Calls made so far. */
    calls: () => calls,
    /** Calls currently held at the gate. */
    waiting: () => waiting,
    /** Holds every call from now on until open(). */
    close() {
      gate = new Promise((r) => {
        release = r;
      });
    },
    open() {
      gate = null;
      release();
    },
  };
};
