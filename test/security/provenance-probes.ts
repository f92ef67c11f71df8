import { expect } from "vitest";
import type { TenantProbeContext } from "./probe-context.js";

/** What the provenance probes need from the tenant-isolation suite (read lazily: ids exist only after setup). */
export interface ProvenanceProbeContext extends TenantProbeContext {
  /** Tenant A's finished run and one of its agents. */
  runA(): { runId: string; agentId: string };
}

const UNKNOWN = "00000000-0000-4000-8000-000000000000";

/**
 * Isolation probes for the provenance queries: tenant B never reaches tenant A's proofs, and B's ledger,
 * checkpoints and key name are B's own log (A's roots never appear in B's answers).
 */
export const provenanceProbes = (c: ProvenanceProbeContext): Record<string, () => Promise<void>> => {
  const checkpointA = async () => {
    const r = await c.gql(c.key("a"), "{ ledgerCheckpoint(treeSize: 1) { origin rootHash } }");
    const cp = r.data?.ledgerCheckpoint as { origin: string; rootHash: string } | null;
    expect(cp?.origin).toMatch(/\/tenant-a$/);
    return cp!;
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
      const a = await checkpointA();
      for (const query of [
        "{ ledgerCheckpoint { origin note } }",
        "{ ledgerCheckpoint(treeSize: 1) { origin note } }",
      ]) {
        const r = await c.gql(c.key("b"), query);
        expect(r.errors).toBeUndefined();
        const cp = r.data?.ledgerCheckpoint as { origin: string } | null;
        if (cp !== null) expect(cp.origin).toMatch(/\/tenant-b$/);
        expect(JSON.stringify(r)).not.toContain(Buffer.from(a.rootHash, "hex").toString("base64"));
      }
    },
    "Query.ledgerConsistencyProof": async () => {
      const a = await checkpointA();
      const r = await c.gql(
        c.key("b"),
        "{ ledgerConsistencyProof(firstSize: 1, secondSize: 1) { firstRoot secondRoot proof } }",
      );
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
