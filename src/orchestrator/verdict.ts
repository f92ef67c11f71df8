import { z } from "zod";
import type { ShadowVerdict } from "../domain/run.js";

const verdictSchema = z.strictObject({
  isChallenge: z.boolean(),
  confidence: z.number().min(0).max(1),
  reasoning: z.string().min(1),
  suggestedRevision: z.string().nullable().optional(),
});

export type VerdictParse = { ok: true; verdict: ShadowVerdict } | { ok: false; problem: string };

/** Longest excerpt of a bad reply quoted back in a repair prompt. */
const PROBLEM_EXCERPT_CHARS = 200;

/**
 * Parses a shadow's reply strictly: the whole reply must be one JSON object of the verdict
 * schema (a single surrounding code fence is tolerated). Nothing is guessed from prose.
 */
export const parseVerdict = (raw: string): VerdictParse => {
  const text = stripFence(raw.trim());
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, problem: `not valid JSON: ${JSON.stringify(text.slice(0, PROBLEM_EXCERPT_CHARS))}` };
  }
  const parsed = verdictSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    return { ok: false, problem: `does not match the verdict schema (${issues})` };
  }
  const v = parsed.data;
  return {
    ok: true,
    verdict: {
      isChallenge: v.isChallenge,
      confidence: v.confidence,
      reasoning: v.reasoning,
      suggestedRevision: v.suggestedRevision ?? null,
    },
  };
};

const FENCE = /^```(?:json)?\s*\n([\s\S]*?)\n?```$/;
const stripFence = (s: string): string => FENCE.exec(s)?.[1]?.trim() ?? s;
