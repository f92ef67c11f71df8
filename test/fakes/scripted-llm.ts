import type { LlmCallKind, LlmCallOptions, LlmClient, LlmRequest, LlmResponse } from "../../src/ports/llm.js";

export type ScriptedReply =
  | string
  | { content: string; delayMs?: number }
  | { hang: true }
  | { error: Error };

/** Decides the reply for a call from its tag (role, kind, round) — never from prompt words. */
export type Script = (request: LlmRequest, turn: number) => ScriptedReply;

export const agreeVerdict = (confidence = 0.9) =>
  JSON.stringify({ isChallenge: false, confidence, reasoning: "Holds up.", suggestedRevision: null });
export const challengeVerdict = (confidence = 0.9) =>
  JSON.stringify({ isChallenge: true, confidence, reasoning: "Unsupported step.", suggestedRevision: null });

/** Answers every call sensibly: text for answers, agreement for challenges. */
export const defaultScript: Script = (request) => {
  const { kind, role, round } = request.tag;
  return kind === "CHALLENGE" || kind === "REPAIR"
    ? agreeVerdict()
    : `${role} ${kind.toLowerCase()} ${round}`;
};

/**
 * An in-process LlmClient for unit tests: replies from a script, records every request, and tracks
 * how many calls are in flight at once.
 */
export class ScriptedLlm implements LlmClient {
  readonly model = "scripted-test-model";
  readonly requests: LlmRequest[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** Most distinct runs that had a call in flight at the same moment. */
  maxRunsInFlight = 0;
  private readonly runsInFlight = new Map<string, number>();
  private readonly turns = new Map<string, number>();

  constructor(private readonly script: Script = defaultScript) {}

  callsOf(kind: LlmCallKind): LlmRequest[] {
    return this.requests.filter((r) => r.tag.kind === kind);
  }

  async complete(request: LlmRequest, options?: LlmCallOptions): Promise<LlmResponse> {
    this.requests.push(request);
    const key = `${request.tag.agentId}:${request.tag.kind}`;
    const turn = (this.turns.get(key) ?? 0) + 1;
    this.turns.set(key, turn);
    const reply = this.script(request, turn);
    const runId = request.tag.runId;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.runsInFlight.set(runId, (this.runsInFlight.get(runId) ?? 0) + 1);
    this.maxRunsInFlight = Math.max(this.maxRunsInFlight, this.runsInFlight.size);
    try {
      if (typeof reply === "object" && "error" in reply) throw reply.error;
      if (typeof reply === "object" && "hang" in reply) {
        await abortable(new Promise<never>(() => {}), options?.signal);
      }
      const content = typeof reply === "string" ? reply : "content" in reply ? reply.content : "";
      const delay = typeof reply === "object" && "delayMs" in reply ? (reply.delayMs ?? 0) : 0;
      if (delay > 0) await abortable(new Promise((r) => setTimeout(r, delay)), options?.signal);
      options?.onToken?.(content);
      return {
        content,
        model: this.model,
        usage: { promptTokens: 10, completionTokens: 5, totalTokens: 15 },
      };
    } finally {
      this.inFlight--;
      const left = (this.runsInFlight.get(runId) ?? 1) - 1;
      if (left === 0) this.runsInFlight.delete(runId);
      else this.runsInFlight.set(runId, left);
    }
  }
}

const abortable = <T>(p: Promise<T>, signal?: AbortSignal): Promise<T> => {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
};
