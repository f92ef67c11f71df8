/**
 * Validation of what an OpenAI-compatible server answers (STYLE §2.11: untrusted input is parsed,
 * never guessed): the zod schemas of a chat completion and of a stream chunk, and their parsing
 * into an LlmResponse, or an LLM_OUTPUT_INVALID AppError that quotes what was received.
 */
import { z } from "zod";
import { AppError, ErrorCode } from "../../domain/errors.js";
import { NO_TOKENS, type TokenUsage } from "../../domain/run.js";
import type { LlmResponse } from "../../ports/llm.js";

/** Longest excerpt of a received body quoted in an error's message and details. */
const EXCERPT_CHARS = 300;

const usageSchema = z.looseObject({
  prompt_tokens: z.number().optional(),
  completion_tokens: z.number().optional(),
  total_tokens: z.number().optional(),
  completion_tokens_details: z.looseObject({ reasoning_tokens: z.number().nullish() }).nullish(),
});
const completionSchema = z.looseObject({
  model: z.string().optional(),
  choices: z.array(
    z.looseObject({
      message: z.looseObject({ content: z.string().nullish(), refusal: z.string().nullish() }),
      finish_reason: z.string().nullish(),
    }),
  ),
  usage: usageSchema.nullish(),
});
const chunkSchema = z.looseObject({
  model: z.string().optional(),
  choices: z.array(
    z.looseObject({
      index: z.number().optional(),
      delta: z.looseObject({ content: z.string().nullish() }).nullish(),
      finish_reason: z.string().nullish(),
    }),
  ),
  usage: usageSchema.nullish(),
});

const count = (n: number | undefined): number =>
  n !== undefined && Number.isFinite(n) && n >= 0 ? Math.floor(n) : 0;
const toUsage = (u: z.infer<typeof usageSchema>): TokenUsage => {
  const promptTokens = count(u.prompt_tokens);
  const completionTokens = count(u.completion_tokens);
  const total = count(u.total_tokens);
  return {
    promptTokens,
    completionTokens,
    totalTokens: total > 0 ? total : promptTokens + completionTokens,
    // Reasoning tokens are part of completion_tokens; reported on their own as well.
    reasoningTokens: count(u.completion_tokens_details?.reasoning_tokens ?? undefined),
  };
};

/** The start of a received value as text, cut at EXCERPT_CHARS characters. */
const excerpt = (value: unknown): string => {
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  return text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}…` : text;
};

/** LLM_OUTPUT_INVALID with `what` went wrong and an excerpt of what was received. */
const outputInvalid = (what: string, received: unknown): AppError =>
  new AppError(ErrorCode.LlmOutputInvalid, `${what}; received: ${excerpt(received)}`, {
    details: { received: excerpt(received) },
  });

/**
 * Parses a non-streamed chat completion: the first choice's text, the model (`fallbackModel` when
 * the server names none) and the token usage (zero when absent).
 * Throws LLM_OUTPUT_INVALID when the body is not a completion, has no choices, or has no text
 * (quoting the model's refusal when it gave one).
 */
export const parseCompletion = (raw: unknown, fallbackModel: string): LlmResponse => {
  const parsed = completionSchema.safeParse(raw);
  if (!parsed.success) throw outputInvalid("LLM response is not a chat completion", raw);
  const { choices, model, usage } = parsed.data;
  const first = choices[0];
  if (first === undefined) throw outputInvalid("LLM response has no choices", raw);
  const content = first.message.content;
  if (typeof content !== "string") {
    const refusal = first.message.refusal;
    throw outputInvalid(
      refusal
        ? `LLM refused to answer: ${refusal}`
        : `LLM response has no text (finish_reason ${first.finish_reason})`,
      raw,
    );
  }
  return { content, model: model || fallbackModel, usage: usage ? toUsage(usage) : NO_TOKENS };
};

/**
 * Reads a streamed chat completion to its end, passing each text delta of choice 0 to `onPiece`
 * as it arrives (whatever `onPiece` throws propagates unchanged), and returns the whole answer.
 * Rethrows `signal.reason` when the request was aborted (the SDK then ends the iteration quietly).
 * Throws LLM_OUTPUT_INVALID for a chunk that is not a completion chunk, or when the stream ended
 * before the model reported a finish_reason.
 */
export const readCompletionStream = async (
  stream: AsyncIterable<unknown>,
  fallbackModel: string,
  signal: AbortSignal,
  onPiece: (text: string) => void,
): Promise<LlmResponse> => {
  let content = "";
  let model = "";
  let finishReason: string | null = null;
  let usage: TokenUsage | undefined;
  let chunks = 0;
  for await (const raw of stream) {
    chunks++;
    const parsed = chunkSchema.safeParse(raw);
    if (!parsed.success) throw outputInvalid(`stream chunk ${chunks} is not a chat completion chunk`, raw);
    const chunk = parsed.data;
    if (model === "" && chunk.model) model = chunk.model;
    if (chunk.usage) usage = toUsage(chunk.usage);
    const choice = chunk.choices.find((c) => (c.index ?? 0) === 0);
    const piece = choice?.delta?.content;
    if (piece) {
      content += piece;
      onPiece(piece);
    }
    if (choice?.finish_reason) finishReason = choice.finish_reason;
  }
  // The SDK ends the iteration quietly when the request is aborted; surface the abort.
  if (signal.aborted) throw signal.reason;
  if (finishReason === null) {
    throw new AppError(
      ErrorCode.LlmOutputInvalid,
      `LLM stream ended before the model finished (no finish_reason after ${chunks} chunks; ${content.length} characters received).`,
      { details: { chunks, received: excerpt(content) } },
    );
  }
  return { content, model: model || fallbackModel, usage: usage ?? NO_TOKENS };
};
