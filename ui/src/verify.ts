import type { ProvenanceRunFieldsFragment } from "../../client/generated/graphql.js";
import {
  agentLeafInputOf,
  ledgerEntryCommitsToRun,
  type Check as ProofCheck,
  receiptOf,
  recomputeAgentLeaf,
  recomputeMerkleRoot,
  recomputeRunTraceRoot,
  recomputeTraceRoot,
  verifyInclusionProof,
} from "../../client/proofs.js";
import { anchorRecordHash } from "../../src/domain/anchor.js";

/**
 * The in-browser verifier of the live view's "verify" action. Every hash is recomputed here from the data
 * the API returned (RunProvenance), with the same pure functions the server uses (src/domain: SHA-256 from
 * @noble/hashes, RFC 8785 JSON, RFC 6962/9162 trees); nothing the server says about a hash is trusted.
 *
 * The checks themselves are client/proofs.ts's, shared with the SDK's client/verify.ts. The signed
 * checkpoint is not checked here: that check (client/checkpoints.ts) needs src/domain/ed25519.ts, i.e.
 * node:crypto, which a browser bundle does not have; `npm run verify` / the SDK's verifyRunProvenance
 * check it.
 */

export type CheckKind = "leaf" | "inclusion" | "trace" | "root" | "ledger" | "anchor";

export interface Check extends ProofCheck {
  readonly kind: CheckKind;
  /** The agent the check is about, when it is about one. */
  readonly agentId?: string;
}

export interface RunVerification {
  readonly checks: readonly Check[];
  /** The Merkle root recomputed from the recomputed leaves, in leaf order (hex). */
  readonly recomputedRoot: string;
  readonly inclusionProofs: { readonly passed: number; readonly total: number };
  readonly ok: boolean;
}

/** The leaf fields (DESIGN.md §3) of an agent: the SDK's, so the browser hashes exactly what it hashes. */
export const agentLeafInput = agentLeafInputOf;

const short = (hex: string) => (hex.length > 16 ? `${hex.slice(0, 12)}…` : hex || "—");

/** Every check of a run that needs no signature: leaves, inclusion proofs, roots, ledger entry, receipts. */
export const verifyRun = (run: ProvenanceRunFieldsFragment): RunVerification => {
  const checks: Check[] = [];
  const merkleRoot = run.merkleRoot ?? "";
  const traceRoot = run.traceRoot ?? "";
  const byId = new Map(run.agents.map((a) => [a.id, a]));
  const treeSize = run.leafOrder.length;
  const leafHashes: string[] = [];
  let passed = 0;

  for (const [i, id] of run.leafOrder.entries()) {
    const agent = byId.get(id);
    const label = `${agent?.role ?? "?"} · leaf ${i}`;
    const leaf = agent ? recomputeAgentLeaf(run.id, agent) : null;
    leafHashes.push(leaf ?? "");
    const r = agent?.result ?? null;
    checks.push({
      kind: "leaf",
      agentId: id,
      name: `${label}: result hashes to its contextHash`,
      ok: leaf !== null && leaf === r?.contextHash && r.leafIndex === i,
      detail: leaf !== null ? short(leaf) : "no result",
    });
    const proof = r?.inclusionProof ?? null;
    const included =
      proof !== null &&
      leaf !== null &&
      verifyInclusionProof(proof, { leafHash: leaf, leafIndex: i, treeSize, root: merkleRoot });
    if (included) passed++;
    checks.push({
      kind: "inclusion",
      agentId: id,
      name: `${label}: inclusion proof reaches the Merkle root`,
      ok: included,
      detail: proof ? `${proof.auditPath.length} hashes in the audit path` : "no proof",
    });
    const transcript = agent?.transcript ?? [];
    const trace = recomputeTraceRoot(transcript) ?? "";
    checks.push({
      kind: "trace",
      agentId: id,
      name: `${label}: transcript (${transcript.length} LLM calls) hashes to its traceRoot`,
      ok: trace !== "" && transcript.every((e, k) => e.index === k) && trace === r?.traceRoot,
      detail: short(trace),
    });
  }

  const recomputedRoot = recomputeMerkleRoot(leafHashes);
  checks.push({
    kind: "root",
    name: `Merkle root recomputed from ${treeSize} leaves`,
    ok: recomputedRoot !== "" && recomputedRoot === merkleRoot,
    detail: short(recomputedRoot),
  });
  const recomputedTrace =
    recomputeRunTraceRoot(run.leafOrder.map((id) => byId.get(id)?.result?.traceRoot ?? "")) ?? "";
  checks.push({
    kind: "root",
    name: "Run traceRoot recomputed from the agents' trace roots",
    ok: recomputedTrace !== "" && recomputedTrace === traceRoot,
    detail: short(recomputedTrace),
  });

  const lp = run.ledgerProof;
  if (lp !== null) {
    const entryOk = ledgerEntryCommitsToRun(run);
    checks.push({ kind: "ledger", name: "Ledger entry commits to this run's roots", ok: entryOk });
    checks.push({
      kind: "ledger",
      name: `Ledger inclusion proof of entry ${lp.leafIndex} in checkpoint ${lp.treeSize}`,
      ok:
        entryOk &&
        verifyInclusionProof(lp, {
          leafHash: lp.leafHash,
          leafIndex: lp.leafIndex,
          treeSize: lp.checkpoint.treeSize,
          root: lp.checkpoint.rootHash,
        }),
      detail: "signature not checked in the browser",
    });
  }
  for (const receipt of run.anchorReceipts) {
    const recomputed = anchorRecordHash(receiptOf(receipt));
    checks.push({
      kind: "anchor",
      name: `Anchor ${receipt.backend} ${receipt.anchorId}: receipt hashes to its recordHash`,
      ok: recomputed === receipt.recordHash && receipt.entry.runId === run.id,
      detail: short(recomputed),
    });
  }

  return {
    checks,
    recomputedRoot,
    inclusionProofs: { passed, total: treeSize },
    ok: treeSize > 0 && checks.every((c) => c.ok),
  };
};
