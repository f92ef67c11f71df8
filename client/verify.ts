import { verifyReceiptFields } from "../src/domain/anchor.js";
import { sha256Hex } from "../src/domain/canonical.js";
import { isHashHex, toHex, verifyConsistency } from "../src/domain/merkle.js";
import type { NoteVerifier } from "../src/domain/signed-note.js";
import { noteVerifierOf, verifyCheckpoint } from "./checkpoints.js";
import { VexError } from "./errors.js";
import {
  LedgerConsistencyDocument,
  type LedgerConsistencyQuery,
  type ProvenanceRunFieldsFragment,
  RunProvenanceDocument,
} from "./generated/graphql.js";
import {
  type Check,
  type CheckKind,
  hashesFromHex,
  ledgerEntryCommitsToRun,
  ledgerUsageMatchesTranscripts,
  receiptOf,
  recomputeAgentLeaf,
  recomputeMerkleRoot,
  recomputeRunTraceRoot,
  recomputeTraceRoot,
  verifyInclusionProof,
} from "./proofs.js";
import type { VexClient } from "./sdk.js";

export type { Check, CheckKind } from "./proofs.js";

/**
 * The one verifier of every consumer (`vex verify`, the web view's "Verify in browser", the SDK):
 * `verifyRun` fetches a run's provenance (RunProvenance, then LedgerConsistency from the anchored
 * checkpoint) and recomputes every hash offline from what the GraphQL API returned
 * (client/operations/provenance.graphql), the checkpoint signatures included; nothing the server says
 * about a hash is taken on trust. One check per claim.
 */

const check = (kind: CheckKind, name: string, ok: boolean, detail?: string, agentId?: string): Check => ({
  kind,
  name,
  ok,
  ...(detail === undefined ? {} : { detail }),
  ...(agentId === undefined ? {} : { agentId }),
});

/** What {@link verifyRunProvenance} checks: the run, the pinned key and the anchored checkpoint's consistency. */
export interface RunProvenanceInput {
  readonly run: ProvenanceRunFieldsFragment;
  readonly key: NoteVerifier;
  /** LedgerConsistency from the anchored checkpoint's size to ledgerProof.treeSize; omit when there are no receipts. */
  readonly anchored?: LedgerConsistencyQuery;
}

/** The outcome of verifying one run. */
export interface RunVerification {
  readonly runId: string;
  readonly checks: readonly Check[];
  /** True when there are checks and every one passed. */
  readonly ok: boolean;
  /** The Merkle root recomputed from the recomputed leaves, in leaf order (hex; "" when a leaf is missing). */
  readonly recomputedRoot: string;
  readonly inclusionProofs: { readonly passed: number; readonly total: number };
  /** The verifier key the checkpoints were checked against, and whether the caller pinned it. */
  readonly verifierKey: string;
  readonly keyPinned: boolean;
}

/** Every check of a run: leaves, root, inclusion proofs, trace roots, ledger proof, checkpoints, anchors. */
export const verifyRunProvenance = (input: RunProvenanceInput): Check[] => runChecks(input).checks;

const runChecks = ({ run, key, anchored }: RunProvenanceInput) => {
  const checks: Check[] = [];
  let kind: CheckKind = "run";
  let agentId: string | undefined;
  const add = (name: string, ok: boolean, detail?: string) =>
    void checks.push(check(kind, name, ok, detail, agentId));
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
    agentId = run.leafOrder[i];
    kind = "leaf";
    const leaf = agent ? recomputeAgentLeaf(run.id, agent) : null;
    leafHashes.push(leaf ?? "");
    const r = agent?.result;
    add(
      `${name}: leaf recomputes to contextHash`,
      leaf !== null && leaf === r?.contextHash,
      leaf ?? "no result",
    );
    kind = "debate";
    add(
      `${name}: verified follows from the debate`,
      r?.verified === (r?.debate.consensusReached && r?.debate.verdict === "UPHELD"),
    );
    kind = "inclusion";
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
    kind = "trace";
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
  agentId = undefined;
  kind = "root";
  const computedRoot = recomputeMerkleRoot(leafHashes);
  add("merkleRoot recomputes from the leaves in leaf order", computedRoot === merkleRoot, computedRoot);
  const computedTrace = recomputeRunTraceRoot(leaves.map((a) => a?.result?.traceRoot ?? ""));
  add(
    "run traceRoot recomputes from the agents' trace roots",
    computedTrace !== null && computedTrace === traceRoot,
  );

  const lp = run.ledgerProof;
  kind = "ledger";
  if (lp === null) {
    add("run is in the ledger", false, "no ledgerProof");
    return { checks, recomputedRoot: computedRoot };
  }
  add("ledger entry commits to this run's roots", ledgerEntryCommitsToRun(run));
  const bill = ledgerUsageMatchesTranscripts(run);
  if (bill !== null) add("ledger entry's usage recomputes from the transcripts", bill);
  const signed = verifyCheckpoint(lp.checkpoint, key);
  kind = "checkpoint";
  add(
    `checkpoint ${lp.checkpoint.treeSize} signature (${key.keyName})`,
    signed.ok,
    signed.ok ? undefined : signed.reason,
  );
  kind = "ledger";
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
  kind = "anchor";
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
  kind = "consistency";
  if (anchored) add(...consistencyCheck(anchored, key));
  return { checks, recomputedRoot: computedRoot };
};

/** The checks of a run and what they add up to. */
export const summarizeVerification = (
  input: RunProvenanceInput & { readonly verifierKey: string; readonly keyPinned: boolean },
): RunVerification => {
  const { checks, recomputedRoot } = runChecks(input);
  const total = input.run.leafOrder.length;
  return {
    runId: input.run.id,
    checks,
    ok: checks.length > 0 && checks.every((c) => c.ok),
    recomputedRoot,
    inclusionProofs: { passed: checks.filter((c) => c.kind === "inclusion" && c.ok).length, total },
    verifierKey: input.verifierKey,
    keyPinned: input.keyPinned,
  };
};

/** What {@link verifyRun} needs of a client: its request method. */
export interface ProvenanceSource {
  request: VexClient["request"];
}

export interface VerifyRunOptions {
  /**
   * The ledger's verifier key (`<name>+<id>+<key>`), pinned by the caller. Without it the server's own
   * (`ledgerPublicKey`) is used, which proves consistency but not who signed: pin it for that.
   */
  readonly verifierKey?: string | undefined;
}

/**
 * Fetches a run's provenance and verifies all of it. NOT_FOUND (a {@link VexError}) when the run does not
 * exist for this key's tenant; BAD_USER_INPUT for a malformed verifier key.
 */
export const verifyRun = async (
  client: ProvenanceSource,
  runId: string,
  options: VerifyRunOptions = {},
): Promise<RunVerification> => {
  const data = await client.request(RunProvenanceDocument, { id: runId });
  const run = data.orchestration;
  if (run === null) throw new VexError("NOT_FOUND", `No run with id ${runId}.`);
  const verifierKey = options.verifierKey ?? data.ledgerPublicKey.verifierKey;
  let key: NoteVerifier;
  try {
    key = noteVerifierOf({ verifierKey });
  } catch (e) {
    throw new VexError("BAD_USER_INPUT", `Malformed verifier key: ${verifierKey}`, { cause: e });
  }
  const lp = run.ledgerProof;
  let anchored: LedgerConsistencyQuery | undefined;
  if (lp !== null) {
    const firstSize = run.anchorReceipts[0]?.entry.treeSize ?? lp.leafIndex + 1;
    anchored = await client.request(LedgerConsistencyDocument, { firstSize, secondSize: lp.treeSize });
  }
  return summarizeVerification({
    run,
    key,
    ...(anchored ? { anchored } : {}),
    verifierKey,
    keyPinned: options.verifierKey !== undefined,
  });
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
