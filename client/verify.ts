import { verifyReceiptFields } from "../src/domain/anchor.js";
import { sha256Hex } from "../src/domain/canonical.js";
import { isHashHex, toHex, verifyConsistency } from "../src/domain/merkle.js";
import type { NoteVerifier } from "../src/domain/signed-note.js";
import { verifyCheckpoint } from "./checkpoints.js";
import type { LedgerConsistencyQuery, ProvenanceRunFieldsFragment } from "./generated/graphql.js";
import {
  type Check,
  hashesFromHex,
  ledgerEntryCommitsToRun,
  receiptOf,
  recomputeAgentLeaf,
  recomputeMerkleRoot,
  recomputeRunTraceRoot,
  recomputeTraceRoot,
  verifyInclusionProof,
} from "./proofs.js";

export * from "./checkpoints.js";
export * from "./proofs.js";

/**
 * The offline verifier of the SDK: `verifyRunProvenance` recomputes every hash of a run from what the
 * GraphQL API returns (client/operations/provenance.graphql) and reports one check per claim.
 */

const check = (name: string, ok: boolean, detail?: string): Check =>
  detail === undefined ? { name, ok } : { name, ok, detail };

/** What {@link verifyRunProvenance} checks: the run, the pinned key and the anchored checkpoint's consistency. */
export interface RunProvenanceInput {
  readonly run: ProvenanceRunFieldsFragment;
  readonly key: NoteVerifier;
  /** LedgerConsistency from the anchored checkpoint's size to ledgerProof.treeSize; omit when there are no receipts. */
  readonly anchored?: LedgerConsistencyQuery;
}

/** Every check of a run: leaves, root, inclusion proofs, trace roots, ledger proof, checkpoints, anchors. */
export const verifyRunProvenance = ({ run, key, anchored }: RunProvenanceInput): Check[] => {
  const checks: Check[] = [];
  const add = (name: string, ok: boolean, detail?: string) => void checks.push(check(name, ok, detail));
  const merkleRoot = run.merkleRoot ?? "";
  const traceRoot = run.traceRoot ?? "";
  add(
    "run succeeded with both roots",
    run.status === "SUCCEEDED" && isHashHex(merkleRoot) && isHashHex(traceRoot),
  );

  const byId = new Map(run.agents.map((a) => [a.id, a]));
  const leaves = run.leafOrder.map((id) => byId.get(id));
  const withResults = run.agents
    .filter((a) => a.result !== null)
    .map((a) => a.id)
    .sort();
  add(
    "leaf order lists every agent result once, at its leafIndex",
    leaves.every((a, i) => a?.result?.leafIndex === i && a.orchestrationId === run.id) &&
      [...run.leafOrder].sort().join() === withResults.join(),
  );
  const leafHashes: string[] = [];
  for (const [i, agent] of leaves.entries()) {
    const name = `agent ${i} (${agent?.role ?? "?"} ${run.leafOrder[i]})`;
    const leaf = agent ? recomputeAgentLeaf(run.id, agent) : null;
    leafHashes.push(leaf ?? "");
    const r = agent?.result;
    add(
      `${name}: leaf recomputes to contextHash`,
      leaf !== null && leaf === r?.contextHash,
      leaf ?? "no result",
    );
    add(
      `${name}: verified follows from the debate`,
      r?.verified === (r?.debate.consensusReached && r?.debate.verdict === "UPHELD"),
    );
    add(
      `${name}: inclusion proof reaches merkleRoot`,
      leaf !== null &&
        !!r?.inclusionProof &&
        r.inclusionProof.root === merkleRoot &&
        verifyInclusionProof(r.inclusionProof, {
          leafHash: leaf,
          leafIndex: i,
          treeSize: leaves.length,
          root: merkleRoot,
        }),
    );
    const transcript = agent?.transcript ?? [];
    const trace = recomputeTraceRoot(transcript);
    add(
      `${name}: transcript (${transcript.length} calls) recomputes to traceRoot`,
      transcript.every((e, k) => e.index === k) &&
        transcript.every(
          (e) => new Set(e.request.params.map((p) => p.name)).size === e.request.params.length,
        ) &&
        trace !== null &&
        trace === r?.traceRoot,
    );
  }
  const computedRoot = recomputeMerkleRoot(leafHashes);
  add("merkleRoot recomputes from the leaves in leaf order", computedRoot === merkleRoot, computedRoot);
  const computedTrace = recomputeRunTraceRoot(leaves.map((a) => a?.result?.traceRoot ?? ""));
  add(
    "run traceRoot recomputes from the agents' trace roots",
    computedTrace !== null && computedTrace === traceRoot,
  );

  const lp = run.ledgerProof;
  if (lp === null) {
    add("run is in the ledger", false, "no ledgerProof");
    return checks;
  }
  add("ledger entry commits to this run's roots", ledgerEntryCommitsToRun(run));
  const signed = verifyCheckpoint(lp.checkpoint, key);
  add(
    `checkpoint ${lp.checkpoint.treeSize} signature (${key.keyName})`,
    signed.ok,
    signed.ok ? undefined : signed.reason,
  );
  add(
    `ledger inclusion proof of entry ${lp.leafIndex} in checkpoint ${lp.treeSize}`,
    signed.ok &&
      lp.checkpoint.treeSize === lp.treeSize &&
      verifyInclusionProof(lp, {
        leafHash: lp.leafHash,
        leafIndex: lp.leafIndex,
        treeSize: lp.treeSize,
        root: toHex(signed.head.rootHash),
      }),
  );

  const receiptKeys = new Set(run.anchorReceipts.map((r) => `${r.backend}#${r.seq}`));
  add(
    "anchored, each receipt listed once",
    receiptKeys.size > 0 && receiptKeys.size === run.anchorReceipts.length,
  );
  // The anchored checkpoint is the same for every receipt: its signature is checked once.
  const cp = anchored?.first;
  const cpSigned = cp ? verifyCheckpoint(cp, key) : null;
  for (const r of run.anchorReceipts) {
    const name = `anchor ${r.backend} ${r.anchorId}`;
    const self = verifyReceiptFields(receiptOf(r));
    add(`${name}: receipt recomputes to its recordHash`, self.valid, self.reason ?? undefined);
    add(
      `${name}: anchors this run's signed checkpoint`,
      !!cp &&
        !!cpSigned?.ok &&
        r.entry.runId === run.id &&
        r.entry.origin === key.keyName &&
        r.entry.treeSize === cp.treeSize &&
        r.entry.rootHash === cp.rootHash &&
        r.entry.checkpointHash === sha256Hex(cp.note) &&
        r.entry.treeSize === lp.leafIndex + 1,
      cpSigned && !cpSigned.ok ? cpSigned.reason : undefined,
    );
    add(
      `${name}: server re-verification of the chain`,
      r.verification.valid,
      r.verification.reason ?? undefined,
    );
  }
  if (anchored) add(...consistencyCheck(anchored, key));
  return checks;
};

/** The consistency proof between the anchored checkpoint and the later one, both signature-checked. */
const consistencyCheck = (q: LedgerConsistencyQuery, key: NoteVerifier): [string, boolean, string?] => {
  const p = q.ledgerConsistencyProof;
  const name = `ledger consistency ${p.firstSize} → ${p.secondSize}`;
  const first = q.first && verifyCheckpoint(q.first, key);
  const second = q.second && verifyCheckpoint(q.second, key);
  if (!first?.ok || !second?.ok) return [name, false, "a checkpoint does not verify"];
  const proof = hashesFromHex(p.proof);
  if (proof === null) return [name, false, "malformed proof"];
  const stated = [p.firstSize, p.secondSize, p.firstRoot, p.secondRoot].join();
  const signedHeads = [
    first.head.treeSize,
    second.head.treeSize,
    toHex(first.head.rootHash),
    toHex(second.head.rootHash),
  ];
  if (stated !== signedHeads.join())
    return [name, false, "the proof's sizes or roots differ from the signed checkpoints"];
  const ok = verifyConsistency({
    oldSize: first.head.treeSize,
    newSize: second.head.treeSize,
    oldRoot: first.head.rootHash,
    newRoot: second.head.rootHash,
    proof,
  });
  return [name, ok];
};
