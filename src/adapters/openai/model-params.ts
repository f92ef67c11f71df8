/**
 * What each model takes: its parameter profile (built-in by name, overridable by configuration),
 * the name of its token-limit field, and the parameters it refused at run time. Turns LlmParams
 * into the request body's fields.
 */
import {
  type LlmParamName,
  type LlmParams,
  type ModelProfile,
  PROFILE_PARAMS,
  restrictToProfile,
} from "../../domain/genome.js";

/** The two names OpenAI-compatible servers use for the completion budget. */
export const TOKEN_LIMIT_FIELDS = ["max_tokens", "max_completion_tokens"] as const;
export type TokenLimitField = (typeof TOKEN_LIMIT_FIELDS)[number];

/**
 * Model names of OpenAI's reasoning families: o1, o3, o4-mini… and gpt-5… (but not the gpt-5 chat
 * models, which sample like classic ones). A provider prefix such as `openai/` is ignored.
 */
const REASONING_MODEL = /^(o\d+(?:$|[-.])|gpt-5(?!.*-chat))/i;

/** The built-in profile of a model name (see REASONING_MODEL). */
export const builtInProfile = (model: string): ModelProfile =>
  REASONING_MODEL.test(model.slice(model.lastIndexOf("/") + 1)) ? "reasoning" : "classic";

/** The configured profile of `model` if there is one, else the built-in one. */
export const resolveModelProfile = (
  model: string,
  configured: Readonly<Record<string, ModelProfile>> = {},
): ModelProfile => configured[model] ?? builtInProfile(model);

/** Body field of every LlmParams field except the token limit (whose name is per model). */
const WIRE_NAMES: Readonly<Record<Exclude<LlmParamName, "maxTokens">, string>> = {
  temperature: "temperature",
  topP: "top_p",
  presencePenalty: "presence_penalty",
  frequencyPenalty: "frequency_penalty",
  reasoningEffort: "reasoning_effort",
  verbosity: "verbosity",
};
const BY_WIRE_NAME = new Map<string, LlmParamName>(
  Object.entries(WIRE_NAMES).map(([name, wire]) => [wire, name as LlmParamName]),
);

/** What a refusal changed: a parameter left out from now on, or the token limit sent under its other name. */
export interface ParamChange {
  readonly model: string;
  /** The body field the server refused. */
  readonly param: string;
  readonly action: "dropped" | "renamed";
  /** For a rename, the field's new name. */
  readonly replacement?: string;
}

/** One model's parameter state; shared by every call of the adapter for the process's lifetime. */
export class ModelParams {
  private readonly dropped = new Set<LlmParamName>();
  private renamed = false;
  private field: TokenLimitField;

  constructor(
    readonly model: string,
    readonly profile: ModelProfile,
    tokenLimitField: TokenLimitField,
  ) {
    this.field = tokenLimitField;
  }

  get tokenLimitField(): TokenLimitField {
    return this.field;
  }

  /** The parameters a request with `params` carries now: the profile's fields, less refused ones. */
  effective(params: LlmParams): LlmParams {
    const restricted: Record<string, unknown> = { ...restrictToProfile(params, this.profile) };
    for (const name of this.dropped) delete restricted[name];
    return restricted as unknown as LlmParams;
  }

  /** The body fields of `params` (already effective). */
  body(params: LlmParams): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [name, wire] of Object.entries(WIRE_NAMES)) {
      const value = params[name as LlmParamName];
      if (value !== undefined) out[wire] = value;
    }
    out[this.field] = params.maxTokens;
    return out;
  }

  /** Whether requests still carry body field `param` (when their params have it). */
  sends(param: string): boolean {
    const name = BY_WIRE_NAME.get(param);
    if (name === undefined) return param === this.field;
    return PROFILE_PARAMS[this.profile].includes(name) && !this.dropped.has(name);
  }

  /** Whether a refusal of body field `param` is one this state can act on (now or already did). */
  canAdapt(param: string): boolean {
    return BY_WIRE_NAME.has(param) || (TOKEN_LIMIT_FIELDS as readonly string[]).includes(param);
  }

  /**
   * Records that the server refused body field `param`: a sampling or reasoning field is left out
   * from now on; the token limit switches to its other name, once. Returns the change when this call
   * made one, undefined when an earlier call already did (the caller just sends again).
   */
  refuse(param: string): ParamChange | undefined {
    const name = BY_WIRE_NAME.get(param);
    if (name !== undefined) {
      if (this.dropped.has(name)) return undefined;
      this.dropped.add(name);
      return { model: this.model, param, action: "dropped" };
    }
    if (param !== this.field || this.renamed) return undefined;
    this.renamed = true;
    this.field = this.field === "max_tokens" ? "max_completion_tokens" : "max_tokens";
    return { model: this.model, param, action: "renamed", replacement: this.field };
  }
}
