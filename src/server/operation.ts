import {
  type DocumentNode,
  type ExecutionResult,
  GraphQLError,
  type GraphQLSchema,
  NoSchemaIntrospectionCustomRule,
  parse,
  specifiedRules,
  type ValidationRule,
  validate,
} from "graphql";
import { ErrorCode } from "../domain/errors.js";
import { type ErrorFormatter, PARSE_FAILED, VALIDATION_FAILED } from "./errors.js";
import { checkDocument, hideSuggestions, type Limits } from "./limits.js";

/**
 * What the streaming transports (graphql-ws, graphql-sse) check before they execute a document,
 * so that both refuse exactly what Apollo refuses on HTTP, with the same codes.
 */
export interface OperationChecks {
  readonly schema: GraphQLSchema;
  readonly limits: Limits;
  /** Armor's validation rules, as on HTTP. */
  readonly validationRules: readonly ValidationRule[];
  /** Whether __schema / __type may be queried (as on HTTP). */
  readonly introspection: boolean;
}

/** The validation rules of every transport: graphql's own, the introspection rule, Armor's limits. */
export const validationRulesOf = (checks: OperationChecks): readonly ValidationRule[] => [
  ...specifiedRules,
  ...(checks.introspection ? [] : [NoSchemaIntrospectionCustomRule]),
  ...checks.validationRules,
];

/**
 * A document's text checked against the limits, parsed and validated: the document, or the errors
 * to answer with (document size BAD_USER_INPUT; tokens and validation GRAPHQL_VALIDATION_FAILED;
 * syntax GRAPHQL_PARSE_FAILED), as Apollo reports them on HTTP.
 */
export const checkOperation = (
  source: string,
  checks: OperationChecks,
  rules: readonly ValidationRule[],
): { document: DocumentNode } | { errors: readonly GraphQLError[] } => {
  const refused = checkDocument(source, checks.limits);
  if (refused) return { errors: [refused] };
  let document: DocumentNode;
  try {
    document = parse(source, { maxTokens: checks.limits.maxTokens });
  } catch (e) {
    return { errors: [withCode(e as GraphQLError, PARSE_FAILED)] };
  }
  const errors = validate(checks.schema, document, rules);
  // As Apollo does on HTTP: every validation failure, Armor's limits included, has one code.
  if (errors.length > 0) return { errors: errors.map((e) => withCode(e, VALIDATION_FAILED)) };
  return { document };
};

/** The same error with a stable code, as Apollo gives parse and validation errors on HTTP. */
export const withCode = (e: GraphQLError, code: string) =>
  new GraphQLError(e.message, {
    nodes: e.nodes,
    source: e.source,
    positions: e.positions,
    originalError: e,
    extensions: { ...e.extensions, code },
  });

/** Production hides "Did you mean …?" suggestions, as on HTTP. */
export const messageShown =
  (production: boolean) =>
  (message: string): string =>
    production ? hideSuggestions(message) : message;

/**
 * Errors in an execution result. Those without a path were raised before execution began — variable
 * values that do not coerce — and are the caller's input errors, as Apollo reports them over HTTP.
 */
export const formatResult = (
  result: ExecutionResult,
  format: ErrorFormatter,
  shown: (message: string) => string,
): ExecutionResult =>
  result.errors
    ? ({
        ...result,
        errors: result.errors.map((e) => {
          const formatted = format(e.toJSON(), e, e.path ? undefined : ErrorCode.BadUserInput);
          return { ...formatted, message: shown(formatted.message) };
        }),
      } as unknown as ExecutionResult)
    : result;
