import { expect } from "vitest";
import { waitFor } from "../support/wait.js";
import type { TenantProbeContext } from "./probe-context.js";

/** What the review probes need: tenant A's finished run (its id stands for a run of A). */
export interface ReviewProbeContext extends TenantProbeContext {
  readonly unknownId: string;
}

/**
 * Isolation probes for human review gates: tenant B never sees tenant A's pending reviews, and deciding
 * one of A's reviews answers exactly like an unknown review (NOT_FOUND), leaving it pending.
 */
export const reviewProbes = (c: ReviewProbeContext): Record<string, () => Promise<void>> => {
  /** A pending review of tenant A (a run whose root waits for a person), made once. */
  let pendingOfA: Promise<{ runId: string; reviewId: string }> | null = null;
  const reviewOfA = () => {
    pendingOfA ??= (async () => {
      const started = await c.gql(
        c.key("a"),
        'mutation { startOrchestration(input: { query: "review me", review: { when: FINAL } }) { id } }',
      );
      const runId = (started.data?.startOrchestration as { id: string } | undefined)?.id ?? "";
      expect(runId).not.toBe("");
      let reviewId = "";
      await waitFor(
        async () => {
          const r = await c.gql(
            c.key("a"),
            "{ pendingReviews(first: 100) { edges { node { id orchestrationId } } } }",
          );
          const page = r.data?.pendingReviews as {
            edges: { node: { id: string; orchestrationId: string } }[];
          };
          reviewId = page.edges.find((e) => e.node.orchestrationId === runId)?.node.id ?? "";
          return reviewId !== "";
        },
        { timeoutMs: 60_000, intervalMs: 50 },
      );
      return { runId, reviewId };
    })();
    return pendingOfA;
  };
  const pendingIdsOf = async (tenant: "a" | "b") =>
    JSON.stringify(await c.gql(c.key(tenant), "{ pendingReviews(first: 100) { edges { node { id } } } }"));

  return {
    "Query.pendingReviews": async () => {
      const { reviewId } = await reviewOfA();
      expect(await pendingIdsOf("a")).toContain(reviewId);
      expect(await pendingIdsOf("b")).not.toContain(reviewId);
    },
    "Mutation.submitReview": async () => {
      const { runId, reviewId } = await reviewOfA();
      const submit = (id: string) =>
        c.gql(
          c.key("b"),
          "mutation($run: ID!, $id: ID!) { submitReview(input: { orchestrationId: $run, reviewId: $id, decision: APPROVE }) { id } }",
          { run: runId, id },
        );
      const theirs = JSON.parse(JSON.stringify(await submit(reviewId)).replaceAll(reviewId, "<id>"));
      const unknown = JSON.parse(JSON.stringify(await submit(c.unknownId)).replaceAll(c.unknownId, "<id>"));
      expect(theirs).toEqual(unknown);
      expect(theirs.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
      // Nothing changed: the review still waits for tenant A.
      expect(await pendingIdsOf("a")).toContain(reviewId);
    },
  };
};
