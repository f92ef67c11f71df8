import { expect } from "vitest";
import { wsClient } from "../support/graphql.js";
import type { TenantProbeContext } from "./probe-context.js";

/** What the evolution probes need from the tenant-isolation suite (read lazily: keys exist only after setup). */
export interface EvolutionProbeContext extends TenantProbeContext {
  wsUrl(): string;
}

type Run = { id: string };

/**
 * Isolation probes for the evolution operations: tenant A evolves (GENETIC and SELF_CORRECTING runs),
 * and tenant B must see none of it — its pools stay founders, and its lists and stream stay empty of A.
 */
export const evolutionProbes = (c: EvolutionProbeContext): Record<string, () => Promise<void>> => {
  let evolvedA: Promise<string[]> | null = null;
  /** Starts a run and waits for it to finish. */
  const runToEnd = async (tenant: "a" | "b", evolution: string, seed: number): Promise<string> => {
    const r = await c.gql(
      c.key(tenant),
      "mutation($input: StartOrchestrationInput!) { startOrchestration(input: $input) { id } }",
      { input: { query: `evolve ${tenant} ${seed}`, evolution, seed } },
    );
    const id = (r.data?.startOrchestration as Run | undefined)?.id ?? "";
    expect(id).not.toBe("");
    const client = wsClient(c.wsUrl(), c.key(tenant));
    try {
      for await (const _ of client.iterate({
        query: "subscription($id: ID!) { orchestrationEvents(orchestrationId: $id) { seq } }",
        variables: { id },
      })) {
        // drain until the run finishes
      }
    } finally {
      await client.dispose();
    }
    return id;
  };
  /** Tenant A's evolved state, created once: 4 SELF_CORRECTING runs (12 experiments) and 2 GENETIC runs. */
  const evolveA = () => {
    evolvedA ??= (async () => {
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push(await runToEnd("a", i < 4 ? "SELF_CORRECTING" : "GENETIC", i));
      return ids;
    })();
    return evolvedA;
  };
  const asB = (query: string) => c.gql(c.key("b"), query);

  return {
    "Query.genePool": async () => {
      await evolveA();
      const a = await c.gql(c.key("a"), "{ genePool { historySize genome { id } } }");
      expect(((a.data?.genePool ?? []) as { historySize: number }[]).some((p) => p.historySize > 0)).toBe(
        true,
      );
      const b = await asB("{ genePool { role historySize genome { id } } }");
      expect(b.data?.genePool).toEqual(
        ["ROOT", "RESEARCHER", "CRITIC"].map((role) => ({
          role,
          historySize: 0,
          genome: { id: `founder-${role.toLowerCase()}` },
        })),
      );
    },
    "Query.traitCorrelations": async () => {
      await evolveA();
      expect(
        (await c.gql(c.key("a"), "{ traitCorrelations { trait } }")).data?.traitCorrelations,
      ).toHaveLength(5);
      expect(await asB("{ traitCorrelations { trait correlation } }")).toEqual({
        data: { traitCorrelations: [] },
      });
    },
    "Query.experiments": async () => {
      const ids = await evolveA();
      const b = await asB("{ experiments(first: 100) { edges { node { id orchestrationId } } } }");
      expect(b).toEqual({ data: { experiments: { edges: [] } } });
      const a = await c.gql(c.key("a"), "{ experiments(first: 100) { edges { node { orchestrationId } } } }");
      expect(JSON.stringify(a)).toContain(ids[0]);
    },
    "Query.rules": async () => {
      await evolveA();
      expect(await asB("{ rules(first: 100) { edges { node { id description } } } }")).toEqual({
        data: { rules: { edges: [] } },
      });
    },
    "Query.evolutionRecords": async () => {
      await evolveA();
      expect(await asB("{ evolutionRecords(first: 100) { edges { node { id } } } }")).toEqual({
        data: { evolutionRecords: { edges: [] } },
      });
    },
    "Subscription.evolutionEvents": async () => {
      await evolveA();
      const client = wsClient(c.wsUrl(), c.key("b"));
      try {
        const live = client.iterate({ query: "subscription { evolutionEvents { orchestrationId } }" });
        const first = live.next();
        // A query on the same socket after the subscribe message: once it answers, the subscription is live.
        await new Promise<void>((resolve, reject) =>
          client.subscribe(
            { query: "{ genePool { role } }" },
            { next: () => {}, error: reject, complete: resolve },
          ),
        );
        await runToEnd("a", "GENETIC", 10);
        const mine = await runToEnd("b", "GENETIC", 11);
        expect((await first).value).toEqual({ data: { evolutionEvents: { orchestrationId: mine } } });
        await live.return?.();
      } finally {
        await client.dispose();
      }
    },
  };
};
