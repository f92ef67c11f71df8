import type { LlmRequest } from "../../ports/llm.js";

/**
 * How a server is asked for JSON: strict structured output (`response_format: json_schema` with the
 * request's schema), a JSON object (`json_object`), or not at all (the prompt alone asks for it).
 */
export const STRUCTURED_OUTPUT_MODES = ["json_schema", "json_object", "none"] as const;
export type StructuredOutputMode = (typeof STRUCTURED_OUTPUT_MODES)[number];
/**
 * What a server is assumed to accept unless configured: JSON mode, which most OpenAI-compatible
 * servers know (strict json_schema is newer and not everywhere).
 * @default "json_object"
 */
export const DEFAULT_STRUCTURED_OUTPUT: StructuredOutputMode = "json_object";

/** The response_format a JSON request carries under the provider's structured-output mode. */
export const responseFormat = (mode: StructuredOutputMode, request: LlmRequest) => {
  if (mode === "none" || !(request.json || request.schema)) return {};
  if (mode === "json_schema" && request.schema) {
    const { name, schema } = request.schema;
    return { response_format: { type: "json_schema" as const, json_schema: { name, strict: true, schema } } };
  }
  return { response_format: { type: "json_object" as const } };
};
