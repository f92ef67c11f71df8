import { efficacyAffinity } from "./efficacy-llm.js";
import type { Script } from "./scripted-llm.js";
import { defaultScript } from "./scripted-llm.js";

/**
 * A script whose debate confidence is a pure function of the agent's sampling parameters: the shadow
 * challenges round 1 with confidence 1 − a and agrees in round 2 with confidence a, where a is the
 * efficacy affinity (1 at temperature 0.45 / top_p 0.9). Under WEIGHTED_CONFIDENCE every genome thus
 * has one exact fitness, (0.5 + a) / 1.5, whatever the task — handy for exact assertions.
 */
export const gradedScript =
  (extra: Partial<Record<"REFLECTION" | "CONSOLIDATION", string>> = {}): Script =>
  (request, turn) => {
    const { kind, round } = request.tag;
    if (kind === "CHALLENGE") {
      const a = efficacyAffinity(request.params);
      return JSON.stringify({
        isChallenge: round === 1,
        confidence: round === 1 ? 1 - a : a,
        reasoning: round === 1 ? "Too loose." : "Holds now.",
        suggestedRevision: null,
      });
    }
    if (kind === "REFLECTION") return extra.REFLECTION ?? JSON.stringify({ adjustments: [], reasoning: "" });
    if (kind === "CONSOLIDATION") return extra.CONSOLIDATION ?? JSON.stringify({ rules: [] });
    return defaultScript(request, turn);
  };

/** The exact fitness {@link gradedScript} gives an agent with these parameters. */
export const gradedFitness = (params: { temperature: number; topP: number }): number =>
  (0.5 + efficacyAffinity(params)) / 1.5;
