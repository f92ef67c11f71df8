import { createHash } from "node:crypto";
import { AppError, ErrorCode, isAppError } from "../../domain/errors.js";
import { type LlmParams, restrictToProfile } from "../../domain/genome.js";
import type { LlmCallOptions, LlmClient, LlmRequest, LlmResponse } from "../../ports/llm.js";

/** Reported as the model of every offline response, so nobody mistakes it for a real model. */
export const OFFLINE_MODEL = "vex-offline-1 (offline, deterministic; no LLM configured)";

/**
 * Sampling settings the offline shadow likes best. Its agreement falls off with distance from
 * them, so evolution has a real signal to follow even without a model.
 */
export const OFFLINE_PREFERRED = { temperature: 0.73, topP: 0.55 } as const;

const SENTENCES = [
  "The question turns on a few assumptions worth stating explicitly.",
  "Evidence from comparable cases points in the same direction.",
  "The main risk is an edge case where the premises do not hold.",
  "A careful reading separates what is known from what is inferred.",
  "Two independent lines of reasoning lead to a consistent answer.",
  "The strongest counter-argument is weaker than it first appears.",
  "Quantities matter here more than the qualitative picture.",
  "A short summary: the claim holds under ordinary conditions.",
] as const;

const digest = (...parts: string[]): Buffer => createHash("sha256").update(parts.join("\u0000")).digest();
const unit = (b: Buffer, offset: number): number => b.readUInt32BE(offset) / 2 ** 32;

/**
 * How much the offline shadow likes these parameters, in [0,1]. A parameter that is not sent counts
 * as its preferred value (the offline model is classic, so its requests carry both).
 */
export const offlineAffinity = (p: LlmParams): number => {
  const dt = ((p.temperature ?? OFFLINE_PREFERRED.temperature) - OFFLINE_PREFERRED.temperature) / 1.4;
  const dp = ((p.topP ?? OFFLINE_PREFERRED.topP) - OFFLINE_PREFERRED.topP) / 0.5;
  return Math.max(0, 1 - Math.sqrt(dt * dt + dp * dp));
};

/**
 * A deterministic, network-free provider: the default when no LLM is configured. The same request
 * always yields the same reply. Shadow verdicts are strict JSON; answers are clearly labelled
 * offline text built from the request's digest.
 */
export const createOfflineLlm = (): LlmClient => ({
  model: OFFLINE_MODEL,
  profile: "classic",
  effectiveParams: (params) => restrictToProfile(params, "classic"),
  async complete(request: LlmRequest, options?: LlmCallOptions): Promise<LlmResponse> {
    // As every adapter: the abort reason when it is an AppError (CANCELLED / INTERRUPTED), else CANCELLED.
    const signal = options?.signal;
    if (signal?.aborted) {
      throw isAppError(signal.reason)
        ? signal.reason
        : new AppError(ErrorCode.Cancelled, "LLM call cancelled.", { cause: signal.reason });
    }
    const prompt = request.messages.map((m) => m.content).join("\n");
    const d = digest(request.tag.kind, request.tag.role, String(request.tag.round), request.system, prompt);
    const content = reply(request, d);
    for (const piece of content.match(/\S+\s*/g) ?? []) options?.onToken?.(piece);
    const promptTokens = Math.ceil((request.system.length + prompt.length) / 4);
    const completionTokens = Math.ceil(content.length / 4);
    return {
      content,
      model: OFFLINE_MODEL,
      usage: {
        promptTokens,
        completionTokens,
        totalTokens: promptTokens + completionTokens,
        reasoningTokens: 0,
      },
      params: restrictToProfile(request.params, "classic"),
    };
  },
});

const reply = (request: LlmRequest, d: Buffer): string => {
  const { kind, role } = request.tag;
  switch (kind) {
    case "CHALLENGE":
    case "REPAIR": {
      const affinity = offlineAffinity(request.params);
      const challenged = unit(d, 0) > affinity;
      return JSON.stringify({
        isChallenge: challenged,
        confidence: Math.round((0.55 + 0.4 * (challenged ? 1 - affinity : affinity)) * 100) / 100,
        reasoning: challenged
          ? "[offline] The claim leaves an assumption unstated; state it and its limits."
          : "[offline] The claim is consistent and its assumptions are stated.",
        suggestedRevision: null,
      });
    }
    case "REFLECTION":
      return JSON.stringify({ adjustments: [], reasoning: "[offline] No reflection without a model." });
    case "CONSOLIDATION":
      return JSON.stringify({ rules: [] });
    case "CHECK":
      return "OK";
    case "ANSWER":
    case "SYNTHESIS":
    case "REBUTTAL": {
      const n = 2 + ((d[4] ?? 0) % 3);
      const body = Array.from({ length: n }, (_, i) => SENTENCES[(d[5 + i] ?? 0) % SENTENCES.length]).join(
        " ",
      );
      const label = kind === "REBUTTAL" ? "revised answer" : kind === "SYNTHESIS" ? "synthesis" : "answer";
      return `[offline ${role.toLowerCase()} ${label} ${d.subarray(0, 4).toString("hex")}] ${body}`;
    }
  }
};
