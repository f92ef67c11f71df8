import { z } from "zod";
import type { ShadowVerdict } from "../domain/run.js";
import type { LlmJsonSchema } from "../ports/llm.js";

/**
 * The verdict as a strict JSON schema (OpenAI structured output: every property required, none
 * extra, optional ones nullable), sent to providers configured for json_schema. It describes what
 * `verdictSchema` below accepts; the reply is still parsed by it.
 */
export const VERDICT_JSON_SCHEMA: LlmJsonSchema = {
  name: "shadow_verdict",
  schema: {
    type: "object",
    properties: {
      isChallenge: { type: "boolean" },
      confidence: { type: "number", minimum: 0, maximum: 1 },
      reasoning: { type: "string" },
      suggestedRevision: { type: ["string", "null"] },
    },
    required: ["isChallenge", "confidence", "reasoning", "suggestedRevision"],
    additionalProperties: false,
  },
};

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
 * Parses a reply strictly: the whole reply must be one JSON value of `schema` (a single surrounding
 * code fence is tolerated). Nothing is guessed from prose. `shape` names the schema in the problem.
 */
export const parseStrictJson = <T>(
  raw: string,
  schema: z.ZodType<T>,
  shape: string,
): { ok: true; value: T } | { ok: false; problem: string } => {
  const text = stripFence(raw.trim());
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, problem: `not valid JSON: ${JSON.stringify(text.slice(0, PROBLEM_EXCERPT_CHARS))}` };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
  return { ok: false, problem: `does not match ${shape} (${issues})` };
};

/** Parses a shadow's reply strictly as one verdict object (see parseStrictJson). */
export const parseVerdict = (raw: string): VerdictParse => {
  const parsed = parseStrictJson(raw, verdictSchema, "the verdict schema");
  if (!parsed.ok) return parsed;
  const v = parsed.value;
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
