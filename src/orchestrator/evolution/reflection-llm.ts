import { z } from "zod";
import { AppError, ErrorCode, isAppError } from "../../domain/errors.js";
import type { Experiment, TraitCorrelations } from "../../domain/evolution-memory.js";
import { TRAIT_NAMES, type TraitName, type Traits } from "../../domain/genome.js";
import {
  MAX_ADJUSTMENTS,
  MAX_REFLECTION_DELTA,
  type ReflectionAdjustment,
  validateReflectionAdjustments,
} from "../../domain/reflection.js";
import type { AgentRole } from "../../domain/run.js";
import type { LlmCallKind, LlmClient, LlmJsonSchema, LlmMessage } from "../../ports/llm.js";
import { PROMPTS, render, spotlight } from "../prompts.js";
import { parseStrictJson } from "../verdict.js";
import {
  EVOLUTION_LLM_PARAMS,
  MAX_RULE_LENGTH,
  MAX_RULES_PER_CONSOLIDATION,
  REFLECTION_EXCERPT_CHARS,
} from "./defaults.js";

/** Who an evolution LLM call is for: the run it follows and the agent (and role) it concerns. */
export interface EvolutionCallContext {
  readonly llm: LlmClient;
  readonly tenantId: string;
  readonly runId: string;
  readonly agentId: string;
  readonly role: AgentRole;
  readonly signal: AbortSignal;
}

/** A parsed LLM answer, or the typed error (LLM_OUTPUT_INVALID, or the adapter's LLM_*) that stopped it. */
export type LlmJsonResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: AppError };

/** The whole reply must be one JSON value (a single surrounding code fence is tolerated). */
const parseStrict = <T>(raw: string, schema: z.ZodType<T>) =>
  parseStrictJson(raw, schema, "the expected shape");

/**
 * One JSON exchange with one repair retry: the reply is parsed strictly; if it does not parse, the model
 * is shown its reply and the problem once. An abort is rethrown; an LLM failure or a second unusable
 * reply is returned as a typed error, never guessed around.
 */
const askJson = async <T>(
  ctx: EvolutionCallContext,
  kind: Extract<LlmCallKind, "REFLECTION" | "CONSOLIDATION">,
  call: { system: string; prompt: string; shape: string; schema: z.ZodType<T>; jsonSchema: LlmJsonSchema },
): Promise<LlmJsonResult<T>> => {
  const tag = {
    tenantId: ctx.tenantId,
    runId: ctx.runId,
    agentId: ctx.agentId,
    role: ctx.role,
    kind,
    round: 0,
  };
  const ask = async (messages: LlmMessage[]) =>
    ctx.llm.complete(
      {
        system: call.system,
        messages,
        params: EVOLUTION_LLM_PARAMS,
        json: true,
        schema: call.jsonSchema,
        tag,
      },
      { signal: ctx.signal },
    );
  const messages: LlmMessage[] = [{ role: "user", content: call.prompt }];
  try {
    const first = await ask(messages);
    const parsed = parseStrict(first.content, call.schema);
    if (parsed.ok) return parsed;
    const second = await ask([
      ...messages,
      { role: "assistant", content: first.content },
      { role: "user", content: render(PROMPTS.jsonRepair, { problem: parsed.problem, shape: call.shape }) },
    ]);
    const repaired = parseStrict(second.content, call.schema);
    if (repaired.ok) return repaired;
    return {
      ok: false,
      error: new AppError(
        ErrorCode.LlmOutputInvalid,
        `${kind.toLowerCase()} reply unusable after one repair: ${repaired.problem}`,
      ),
    };
  } catch (e) {
    if (ctx.signal.aborted) throw ctx.signal.reason ?? e;
    if (isAppError(e)) return { ok: false, error: e };
    throw e;
  }
};

/** Where each trait shows up in the LLM request, so the reflection knows what it is tuning. */
const TRAIT_EFFECT: Readonly<Record<TraitName, string>> = {
  exploration: "temperature = 0.1 + 1.4·exploration",
  precision: "top_p = 1 − 0.5·precision",
  creativity: "presence_penalty = creativity",
  skepticism: "frequency_penalty = 0.5·skepticism",
  verbosity: "max_tokens = base × (0.5 + 1.5·verbosity)",
};

const excerpt = (text: string): string => text.slice(0, REFLECTION_EXCERPT_CHARS);
const f2 = (x: number): string => x.toFixed(2);
const traitList = TRAIT_NAMES.join(", ");

/** The reflection as a strict JSON schema (structured output); `reflectionSchema` parses the reply. */
export const REFLECTION_JSON_SCHEMA: LlmJsonSchema = {
  name: "trait_reflection",
  schema: {
    type: "object",
    properties: {
      adjustments: {
        type: "array",
        items: {
          type: "object",
          properties: {
            trait: { type: "string", enum: [...TRAIT_NAMES] },
            delta: { type: "number" },
            reasoning: { type: ["string", "null"] },
          },
          required: ["trait", "delta", "reasoning"],
          additionalProperties: false,
        },
      },
      reasoning: { type: "string" },
    },
    required: ["adjustments", "reasoning"],
    additionalProperties: false,
  },
};

const reflectionSchema = z.object({
  adjustments: z.array(
    z.object({ trait: z.string(), delta: z.number(), reasoning: z.string().nullable().optional() }),
  ),
  reasoning: z.string().optional(),
});

export interface ReflectionInput {
  readonly query: string;
  readonly response: string;
  readonly traits: Traits;
  readonly fitness: number;
  readonly correlations: TraitCorrelations;
  /** How many experiments the correlations come from. */
  readonly sampleSize: number;
}

export interface Reflection {
  readonly adjustments: readonly ReflectionAdjustment[];
  readonly reasoning: string;
}

/**
 * Asks the LLM to reflect on an agent result (kind REFLECTION). The answer must be strict JSON of known
 * traits with |delta| ≤ 0.2, at most 3 (validated by `validateReflectionAdjustments`); the query and the
 * answer are spotlighted as untrusted data.
 */
export const reflect = async (
  ctx: EvolutionCallContext,
  input: ReflectionInput,
): Promise<LlmJsonResult<Reflection>> => {
  const schema = reflectionSchema.transform((v, zctx) => {
    try {
      return { adjustments: validateReflectionAdjustments(v.adjustments), reasoning: v.reasoning ?? "" };
    } catch (e) {
      zctx.addIssue({ code: "custom", message: e instanceof Error ? e.message : String(e) });
      return z.NEVER;
    }
  });
  return askJson(ctx, "REFLECTION", {
    system: PROMPTS.reflectionSystem,
    prompt: render(PROMPTS.reflection, {
      task: spotlight("user-query", excerpt(input.query)),
      response: spotlight("agent-answer", excerpt(input.response)),
      traits: TRAIT_NAMES.map((t) => `- ${t} (${TRAIT_EFFECT[t]}): ${f2(input.traits[t])}`).join("\n"),
      fitness: f2(input.fitness),
      count: input.sampleSize,
      correlations: TRAIT_NAMES.map((t) => `- ${t}: r = ${f2(input.correlations[t] ?? 0)}`).join("\n"),
      traitNames: traitList,
      maxDelta: MAX_REFLECTION_DELTA,
      maxAdjustments: MAX_ADJUSTMENTS,
    }),
    shape: '{"adjustments": [{"trait": string, "delta": number, "reasoning": string}], "reasoning": string}',
    schema,
    jsonSchema: REFLECTION_JSON_SCHEMA,
  });
};

/** A rule as the consolidation returned it: text cleaned for use in system prompts. */
export interface ConsolidatedRule {
  readonly description: string;
  readonly traits: readonly TraitName[];
  readonly confidence: number;
}

/** One line, no control characters, no markup that could pose as a prompt block. */
const cleanRuleText = (text: string): string =>
  text
    .replace(/\p{Cc}/gu, " ")
    .replace(/\s+/g, " ")
    .trim()
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;");

/** The consolidation as a strict JSON schema (structured output); `consolidationSchema` parses the reply. */
export const CONSOLIDATION_JSON_SCHEMA: LlmJsonSchema = {
  name: "trait_rules",
  schema: {
    type: "object",
    properties: {
      rules: {
        type: "array",
        items: {
          type: "object",
          properties: {
            rule: { type: "string" },
            traits: { type: "array", items: { type: "string", enum: [...TRAIT_NAMES] } },
            confidence: { type: "number", minimum: 0, maximum: 1 },
          },
          required: ["rule", "traits", "confidence"],
          additionalProperties: false,
        },
      },
    },
    required: ["rules"],
    additionalProperties: false,
  },
};

const consolidationSchema = z.object({
  rules: z
    .array(
      z.object({
        rule: z.string().transform(cleanRuleText).pipe(z.string().min(1).max(MAX_RULE_LENGTH)),
        traits: z.array(z.enum(TRAIT_NAMES)).min(1),
        confidence: z.number().min(0).max(1),
      }),
    )
    .max(MAX_RULES_PER_CONSOLIDATION),
});

/**
 * Asks the LLM to consolidate experiments into rules (kind CONSOLIDATION). Every experiment given is
 * shown (the seed showed 20 of 50). The answer must be strict JSON: known trait names, confidence in
 * [0,1], rule text of at most MAX_RULE_LENGTH characters; `{"rules": []}` is a valid answer.
 */
export const consolidate = async (
  ctx: EvolutionCallContext,
  experiments: readonly Experiment[],
): Promise<LlmJsonResult<ConsolidatedRule[]>> => {
  const lines = experiments.map(
    (e) =>
      `- ${e.role} | ${TRAIT_NAMES.map((t) => `${t} ${f2(e.traits[t])}`).join(", ")} | fitness ${f2(e.fitness)}`,
  );
  const result = await askJson(ctx, "CONSOLIDATION", {
    system: PROMPTS.consolidationSystem,
    prompt: render(PROMPTS.consolidation, {
      experiments: spotlight("experiments", lines.join("\n")),
      maxLength: MAX_RULE_LENGTH,
      traitNames: traitList,
      maxRules: MAX_RULES_PER_CONSOLIDATION,
    }),
    shape: '{"rules": [{"rule": string, "traits": [string], "confidence": number}]}',
    schema: consolidationSchema,
    jsonSchema: CONSOLIDATION_JSON_SCHEMA,
  });
  return result.ok
    ? {
        ok: true,
        value: result.value.rules.map((r) => ({
          description: r.rule,
          traits: [...new Set(r.traits)],
          confidence: r.confidence,
        })),
      }
    : result;
};
