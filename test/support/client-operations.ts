import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type DefinitionNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  Kind,
  type OperationDefinitionNode,
  parse,
  print,
  type TypeNode,
  visit,
} from "graphql";

/** One operation of client/operations/*.graphql, as the client sends it (with the fragments it uses). */
export interface ClientOperation {
  readonly name: string;
  readonly kind: OperationDefinitionNode["operation"];
  readonly definition: OperationDefinitionNode;
  readonly source: string;
}

const OPERATIONS_DIR = join(import.meta.dirname, "../../client/operations");

/** Every operation in client/operations, each printed with its fragments, transitively. */
export const loadClientOperations = (): ClientOperation[] => {
  const definitions: DefinitionNode[] = readdirSync(OPERATIONS_DIR)
    .filter((f) => f.endsWith(".graphql"))
    .sort()
    .flatMap((f) => parse(readFileSync(join(OPERATIONS_DIR, f), "utf8")).definitions);
  const fragments = new Map(
    definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((d) => [d.name.value, d]),
  );
  const documentOf = (op: OperationDefinitionNode): DocumentNode => {
    const used = new Set<string>();
    const walk = (node: OperationDefinitionNode | FragmentDefinitionNode) =>
      visit(node, {
        FragmentSpread(spread) {
          if (used.has(spread.name.value)) return;
          used.add(spread.name.value);
          const fragment = fragments.get(spread.name.value);
          if (fragment) walk(fragment);
        },
      });
    walk(op);
    return {
      kind: Kind.DOCUMENT,
      definitions: [op, ...[...used].map((n) => fragments.get(n) as FragmentDefinitionNode)],
    };
  };
  return definitions
    .filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)
    .map((op) => ({
      name: op.name?.value ?? "",
      kind: op.operation,
      definition: op,
      source: print(documentOf(op)),
    }));
};

/** Placeholder values for an operation's required variables: enough to pass validation. */
export const placeholderVariables = (op: ClientOperation): Record<string, unknown> => {
  const placeholder = (type: TypeNode): unknown => {
    if (type.kind === Kind.NON_NULL_TYPE) return placeholder(type.type);
    if (type.kind === Kind.LIST_TYPE) return [];
    switch (type.name.value) {
      case "Int":
        return 1;
      case "StartOrchestrationInput":
        return { query: "client operation" };
      case "DateTime":
        return new Date(0).toISOString();
      case "SubmitReviewInput":
        return { orchestrationId: "none", reviewId: "none", decision: "APPROVE" };
      default:
        return "none";
    }
  };
  return Object.fromEntries(
    (op.definition.variableDefinitions ?? [])
      .filter((v) => v.type.kind === Kind.NON_NULL_TYPE)
      .map((v) => [v.variable.name.value, placeholder(v.type)]),
  );
};
