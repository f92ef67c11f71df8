import type {
  ProvenanceAgentFieldsFragment,
  ProvenanceRunFieldsFragment,
  TranscriptEntryFieldsFragment,
} from "../../client/generated/graphql.js";
import { anchorRecordHash } from "../../src/domain/anchor.js";
import { type AgentLeafInput, agentLeafHash } from "../../src/domain/leaf.js";
import { ledgerLeafHash } from "../../src/domain/ledger.js";
import {
  hashFromHex,
  isHashHex,
  merkleRootFromLeafHashes,
  toHex,
  verifyInclusion,
} from "../../src/domain/merkle.js";
import { runTraceRoot, type TranscriptEntry, transcriptRoot } from "../../src/domain/transcript.js";

/**
 * The in-browser verifier of the live view's "verify" action. Every hash is recomputed here from the data
 * the API returned (RunProvenance), with the same pure functions the server uses (src/domain: SHA-256 from
 * @noble/hashes, RFC 8785 JSON, RFC 6962/9162 trees); nothing the server says about a hash is trusted.
 *
 * It mirrors the run-level checks of client/verify.ts, which cannot be bundled for a browser as it is:
 * its checkpoint-signature check imports src/domain/ed25519.ts (node:crypto). The signed checkpoint is
 * therefore not checked here; `npm run verify` / the SDK's verifyRunProvenance check it.
 */

export type CheckKind = "leaf" | "inclusion" | "trace" | "root" | "ledger" | "anchor";

export interface Check {
  readonly kind: CheckKind;
  readonly name: string;
  readonly ok: boolean;
  readonly detail?: string;
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

/** The leaf fields (DESIGN.md §3) of an agent as RunProvenance returns it; null without a result. */
export const agentLeafInput = (
  runId: string,
  agent: ProvenanceAgentFieldsFragment,
): AgentLeafInput | null => {
  const r = agent.result;
  if (r === null) return null;
  const { exploration, precision, creativity, skepticism, verbosity } = agent.genome;
  return {
    runId,
    agentId: agent.id,
    role: agent.role,
    depth: agent.depth,
    response: r.response,
    confidence: r.confidence,
    debate: {
      protocol: r.debate.protocol,
      rounds: r.debate.rounds.map((d) => ({
        round: d.round,
        claim: d.claim,
        outcome: d.outcome,
        verdict: d.verdict && {
          isChallenge: d.verdict.isChallenge,
          confidence: d.verdict.confidence,
          reasoning: d.verdict.reasoning,
          suggestedRevision: d.verdict.suggestedRevision,
        },
        rawChallenge: d.rawChallenge,
        rebuttal: d.rebuttal,
      })),
      votes: r.debate.votes.map((v) => ({ voter: v.voter, agrees: v.agrees, weight: v.weight })),
      consensusReached: r.debate.consensusReached,
      verdict: r.debate.verdict,
    },
    traits: { exploration, precision, creativity, skepticism, verbosity },
  };
};

/** A transcript entry in exactly the shape that was hashed (params back to an object). */
const transcriptEntry = (e: TranscriptEntryFieldsFragment): TranscriptEntry => ({
  index: e.index,
  kind: e.kind,
  round: e.round,
  request: {
    system: e.request.system,
    messages: e.request.messages.map((m) => ({ role: m.role, content: m.content })),
    params: Object.fromEntries(e.request.params.map((p) => [p.name, p.value])),
    json: e.request.json,
  },
  response: { content: e.response.content, model: e.response.model },
});

const hexes = (values: readonly string[]): Uint8Array[] | null =>
  values.every(isHashHex) ? values.map(hashFromHex) : null;

/** RFC 9162 §2.1.3.2 on hex inputs; false for anything malformed. */
const inclusionHolds = (p: {
  leafIndex: number;
  treeSize: number;
  leafHash: string;
  auditPath: readonly string[];
  root: string;
}): boolean => {
  const path = hexes(p.auditPath);
  if (path === null || !isHashHex(p.leafHash) || !isHashHex(p.root)) return false;
  return verifyInclusion({
    leafIndex: p.leafIndex,
    treeSize: p.treeSize,
    leafHash: hashFromHex(p.leafHash),
    auditPath: path,
    root: hashFromHex(p.root),
  });
};

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
    const input = agent ? agentLeafInput(run.id, agent) : null;
    const leaf = input ? toHex(agentLeafHash(input)) : "";
    leafHashes.push(leaf);
    const r = agent?.result ?? null;
    checks.push({
      kind: "leaf",
      agentId: id,
      name: `${label}: result hashes to its contextHash`,
      ok: leaf !== "" && leaf === r?.contextHash && r.leafIndex === i,
      detail: leaf ? short(leaf) : "no result",
    });
    const proof = r?.inclusionProof ?? null;
    const included =
      proof !== null &&
      leaf !== "" &&
      proof.leafHash === leaf &&
      proof.leafIndex === i &&
      proof.treeSize === treeSize &&
      proof.root === merkleRoot &&
      inclusionHolds(proof);
    if (included) passed++;
    checks.push({
      kind: "inclusion",
      agentId: id,
      name: `${label}: inclusion proof reaches the Merkle root`,
      ok: included,
      detail: proof ? `${proof.auditPath.length} hashes in the audit path` : "no proof",
    });
    const entries = (agent?.transcript ?? []).map(transcriptEntry);
    const trace = entries.length > 0 ? transcriptRoot(entries) : "";
    checks.push({
      kind: "trace",
      agentId: id,
      name: `${label}: transcript (${entries.length} LLM calls) hashes to its traceRoot`,
      ok: trace !== "" && entries.every((e, k) => e.index === k) && trace === r?.traceRoot,
      detail: short(trace),
    });
  }

  const leaves = hexes(leafHashes);
  const recomputedRoot = leaves ? toHex(merkleRootFromLeafHashes(leaves)) : "";
  checks.push({
    kind: "root",
    name: `Merkle root recomputed from ${treeSize} leaves`,
    ok: recomputedRoot !== "" && recomputedRoot === merkleRoot,
    detail: short(recomputedRoot),
  });
  const traceRoots = run.leafOrder.map((id) => byId.get(id)?.result?.traceRoot ?? "");
  const recomputedTrace = traceRoots.every(isHashHex) ? runTraceRoot(traceRoots) : "";
  checks.push({
    kind: "root",
    name: "Run traceRoot recomputed from the agents' trace roots",
    ok: recomputedTrace !== "" && recomputedTrace === traceRoot,
    detail: short(recomputedTrace),
  });

  const lp = run.ledgerProof;
  if (lp !== null) {
    const entryOk =
      lp.entry.runId === run.id &&
      lp.entry.merkleRoot === merkleRoot &&
      lp.entry.traceRoot === traceRoot &&
      lp.entry.leafCount === treeSize &&
      toHex(ledgerLeafHash(lp.entry)) === lp.leafHash;
    checks.push({ kind: "ledger", name: "Ledger entry commits to this run's roots", ok: entryOk });
    checks.push({
      kind: "ledger",
      name: `Ledger inclusion proof of entry ${lp.leafIndex} in checkpoint ${lp.treeSize}`,
      ok:
        entryOk &&
        lp.root === lp.checkpoint.rootHash &&
        lp.treeSize === lp.checkpoint.treeSize &&
        inclusionHolds(lp),
      detail: "signature not checked in the browser",
    });
  }
  for (const receipt of run.anchorReceipts) {
    const { backend, anchorId, seq, prevHash, anchoredAt, entry, recordHash } = receipt;
    const recomputed = anchorRecordHash({ seq, prevHash, anchoredAt, entry: { ...entry } });
    checks.push({
      kind: "anchor",
      name: `Anchor ${backend} ${anchorId}: receipt hashes to its recordHash`,
      ok: recomputed === recordHash && entry.runId === run.id,
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
