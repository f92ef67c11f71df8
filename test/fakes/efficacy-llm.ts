import { createHash } from "node:crypto";
import type { LlmParams } from "../../src/domain/genome.js";
import type { LlmRequest } from "../../src/ports/llm.js";
import { type Script, ScriptedLlm } from "./scripted-llm.js";

/**
 * A scripted LLM for the evolution efficacy scenario (issue 5 item 7): its shadow agrees more often, and
 * more confidently, the closer an agent's sampling parameters are to a known optimum. Fitness (the
 * debate's confidence) therefore peaks there, and evolution has a real signal to follow.
 *
 * Everything is deterministic: the shadow's coin is a hash of the claim and the round, so two runs of the
 * same task see the same coins whatever their ids, and modes are compared on equal luck.
 */

/** Where the shadow is happiest: temperature ≈ 0.45 (exploration 0.25), top_p ≈ 0.9 (precision 0.2). */
export const EFFICACY_OPTIMUM = Object.freeze({ temperature: 0.45, topP: 0.9 });
/** Distances are measured in these units: half of each parameter's range (1.4 and 0.5). */
export const TEMPERATURE_SPREAD = 0.7;
export const TOP_P_SPREAD = 0.25;
/** Shadow confidence is BASE + SPAN × (how strongly the evidence points its way). */
const CONFIDENCE_BASE = 0.5;
const CONFIDENCE_SPAN = 0.5;

/** How close parameters are to the optimum, in [0,1]: 1 at the optimum, 0 one spread-unit away or more. */
export const efficacyAffinity = (p: Pick<LlmParams, "temperature" | "topP">): number => {
  // Requests from the classic mapping always carry both; a missing one scores as far off as possible.
  if (p.temperature === undefined || p.topP === undefined) return 0;
  const dt = (p.temperature - EFFICACY_OPTIMUM.temperature) / TEMPERATURE_SPREAD;
  const dp = (p.topP - EFFICACY_OPTIMUM.topP) / TOP_P_SPREAD;
  return Math.max(0, 1 - Math.sqrt(dt * dt + dp * dp));
};

/** A uniform number in [0,1) from the text: the shadow's deterministic coin. */
const coin = (...parts: string[]): number =>
  createHash("sha256").update(parts.join("\u0000")).digest().readUInt32BE(0) / 2 ** 32;

const claimOf = (request: LlmRequest): string => request.messages[0]?.content ?? "";

/** Options of the efficacy fake. */
export interface EfficacyLlmOptions {
  /** Reply to REFLECTION calls; by default no opinion, so self-correction lives on statistics alone. */
  readonly reflection?: string;
  /** Reply to CONSOLIDATION calls. @default no rules */
  readonly consolidation?: string;
}

/** The script of the efficacy fake; see the module comment. */
export const efficacyScript =
  (options: EfficacyLlmOptions = {}): Script =>
  (request) => {
    const { kind, role, round } = request.tag;
    switch (kind) {
      case "CHALLENGE":
      case "REPAIR": {
        const affinity = efficacyAffinity(request.params);
        const agrees = coin(claimOf(request), String(round)) < affinity;
        return JSON.stringify({
          isChallenge: !agrees,
          confidence: CONFIDENCE_BASE + CONFIDENCE_SPAN * (agrees ? affinity : 1 - affinity),
          reasoning: agrees ? "The claim holds." : "The claim overreaches.",
          suggestedRevision: null,
        });
      }
      case "REBUTTAL":
        return `${role} revision ${round}: ${coin(claimOf(request)).toFixed(6)}`;
      case "REFLECTION":
        return options.reflection ?? JSON.stringify({ adjustments: [], reasoning: "No opinion." });
      case "CONSOLIDATION":
        return options.consolidation ?? JSON.stringify({ rules: [] });
      default:
        return `${role} ${kind.toLowerCase()}: ${coin(claimOf(request)).toFixed(6)}`;
    }
  };

/** A ScriptedLlm running {@link efficacyScript}. */
export const createEfficacyLlm = (options: EfficacyLlmOptions = {}): ScriptedLlm =>
  new ScriptedLlm(efficacyScript(options));
