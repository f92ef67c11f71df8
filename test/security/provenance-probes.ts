import { expect } from "vitest";
import { wsClient } from "../support/graphql.js";
import type { TenantProbeContext } from "./probe-context.js";

/** What the provenance probes need from the tenant-isolation suite (read lazily: ids exist only after setup). */
export interface ProvenanceProbeContext extends TenantProbeContext {
  /** Tenant A's finished run and one of its agents. */
  runA(): { runId: string; agentId: string };
  wsUrl(): string;
}

const UNKNOWN = "00000000-0000-4000-8000-000000000000";

/**
 * Isolation probes for the provenance queries: tenant B never reaches tenant A's proofs, and B's ledger,
 * checkpoints and key name are B's own log (A's roots never appear in B's answers).
 */
export const provenanceProbes = (c: ProvenanceProbeContext): Record<string, () => Promise<void>> => {
  const checkpointAt1 = async (tenant: "a" | "b") => {
    const r = await c.gql(c.key(tenant), "{ ledgerCheckpoint(treeSize: 1) { origin rootHash } }");
    expect(r.errors).toBeUndefined();
    const cp = r.data?.ledgerCheckpoint as { origin: string; rootHash: string } | null;
    expect(cp?.origin).toMatch(new RegExp(`/tenant-${tenant}$`));
    return cp as { origin: string; rootHash: string };
  };
  /**
   * B's own ledger holds at least one run, whatever other probes did before: a ledger of B's own
   * is what every answer to B must come from.
   */
  let ownRunOfB: Promise<void> | null = null;
  const bHasALedger = () => {
    ownRunOfB ??= (async () => {
      const r = await c.gql(
        c.key("b"),
        'mutation { startOrchestration(input: { query: "b ledger" }) { id } }',
      );
      const id = (r.data?.startOrchestration as { id: string } | undefined)?.id;
      expect(id).toBeDefined();
      const client = wsClient(c.wsUrl(), c.key("b"));
      try {
        for await (const _ of client.iterate({
          query: "subscription($id: ID!) { orchestrationEvents(orchestrationId: $id) { seq } }",
          variables: { id },
        })) {
          // until the run has finished (and is in B's ledger)
        }
      } finally {
        await client.dispose();
      }
    })();
    return ownRunOfB;
  };
  return {
    "Query.inclusionProof": async () => {
      const { runId, agentId } = c.runA();
      const query = "query($o: ID!, $a: ID!) { inclusionProof(orchestrationId: $o, agentId: $a) { root } }";
      const own = await c.gql(c.key("a"), query, { o: runId, a: agentId });
      expect(own.data?.inclusionProof).not.toBeNull();
      for (const vars of [
        { o: runId, a: agentId },
        { o: runId, a: UNKNOWN },
        { o: UNKNOWN, a: agentId },
      ]) {
        expect(await c.gql(c.key("b"), query, vars)).toEqual({ data: { inclusionProof: null } });
      }
    },
    "Query.ledgerCheckpoint": async () => {
      await bHasALedger();
      const a = await checkpointAt1("a");
      const b = await checkpointAt1("b");
      expect(b.rootHash).not.toBe(a.rootHash);
      for (const query of [
        "{ ledgerCheckpoint { origin note } }",
        "{ ledgerCheckpoint(treeSize: 1) { origin note } }",
      ]) {
        const r = await c.gql(c.key("b"), query);
        expect(r.errors).toBeUndefined();
        const cp = r.data?.ledgerCheckpoint as { origin: string; note: string };
        expect(cp.origin).toMatch(/\/tenant-b$/);
        expect(cp.note).toContain(cp.origin);
        expect(JSON.stringify(r)).not.toContain(Buffer.from(a.rootHash, "hex").toString("base64"));
      }
    },
    "Query.ledgerConsistencyProof": async () => {
      await bHasALedger();
      const a = await checkpointAt1("a");
      const b = await checkpointAt1("b");
      const r = await c.gql(
        c.key("b"),
        "{ ledgerConsistencyProof(firstSize: 1, secondSize: 1) { firstRoot secondRoot proof } }",
      );
      // B's own tree of size 1, proved consistent with itself: B's root, an empty proof, never A's root.
      expect(r).toEqual({
        data: { ledgerConsistencyProof: { firstRoot: b.rootHash, secondRoot: b.rootHash, proof: [] } },
      });
      expect(JSON.stringify(r)).not.toContain(a.rootHash);
    },
    "Query.ledgerPublicKey": async () => {
      const r = await c.gql(c.key("b"), "{ ledgerPublicKey { keyName verifierKey } }");
      const key = r.data?.ledgerPublicKey as { keyName: string; verifierKey: string };
      expect(key.keyName).toMatch(/\/tenant-b$/);
      expect(key.verifierKey.startsWith(`${key.keyName}+`)).toBe(true);
    },
  };
};
