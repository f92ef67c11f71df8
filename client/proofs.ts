import type { AnchorReceipt } from "../src/domain/anchor.js";
import { parseCheckpointText, type TreeHead } from "../src/domain/checkpoint.js";
import { type AgentLeafInput, agentLeafHash } from "../src/domain/leaf.js";
import { hashFromHex, isHashHex, toHex, verifyInclusion } from "../src/domain/merkle.js";
import { type NoteVerifier, openNote, parseNoteVerifierKey } from "../src/domain/signed-note.js";
import type { TranscriptEntry } from "../src/domain/transcript.js";
import type {
  AnchorReceiptFieldsFragment,
  CheckpointFieldsFragment,
  InclusionProofFieldsFragment,
  LedgerPublicKeyFieldsFragment,
  ProvenanceAgentFieldsFragment,
  TranscriptEntryFieldsFragment,
} from "./generated/graphql.js";

/**
 * The building blocks of client/verify.ts, on the generated types of client/operations/provenance.graphql.
 * Every hash is recomputed from the data; nothing the server says about a hash is taken on trust except
 * the ledger key, which callers should pin.
 */

/** One named check and its outcome. */
export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail?: string;
}

const hex = (value: string): Uint8Array | null => (isHashHex(value) ? hashFromHex(value) : null);

/** The leaf fields (DESIGN.md §3) of an agent as the API returns it. */
export const agentLeafInputOf = (
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

/** The leaf hash (hex) recomputed from an agent's result; null when it has none. */
export const recomputeAgentLeaf = (runId: string, agent: ProvenanceAgentFieldsFragment): string | null => {
  const input = agentLeafInputOf(runId, agent);
  return input && toHex(agentLeafHash(input));
};

/** A transcript entry in exactly the shape that was hashed (params back to an object). */
export const transcriptEntryOf = (e: TranscriptEntryFieldsFragment): TranscriptEntry => ({
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

/** True when `proof` proves `leafHash` at `leafIndex` in a tree of `treeSize` whose root is `root` (all hex). */
export const verifyInclusionProof = (
  proof: InclusionProofFieldsFragment,
  expected: {
    readonly leafHash: string;
    readonly leafIndex: number;
    readonly treeSize: number;
    readonly root: string;
  },
): boolean => {
  const leaf = hex(expected.leafHash);
  const root = hex(expected.root);
  const path = proof.auditPath.map(hex);
  if (leaf === null || root === null || path.some((p) => p === null)) return false;
  return (
    proof.leafHash === expected.leafHash &&
    proof.root === expected.root &&
    proof.leafIndex === expected.leafIndex &&
    proof.treeSize === expected.treeSize &&
    verifyInclusion({
      leafIndex: proof.leafIndex,
      treeSize: proof.treeSize,
      leafHash: leaf,
      auditPath: path as Uint8Array[],
      root,
    })
  );
};

/** The trusted key from a verifier key string (pinned by the caller or read from the API). */
export const noteVerifierOf = (key: Pick<LedgerPublicKeyFieldsFragment, "verifierKey">): NoteVerifier =>
  parseNoteVerifierKey(key.verifierKey);

/** Opens a checkpoint note with the key and parses it; the head must match the fields beside the note. */
export const verifyCheckpoint = (
  checkpoint: CheckpointFieldsFragment,
  key: NoteVerifier,
): { readonly ok: true; readonly head: TreeHead } | { readonly ok: false; readonly reason: string } => {
  const opened = openNote(checkpoint.note, key);
  if (!opened.ok) return opened;
  const parsed = parseCheckpointText(opened.text);
  if (!parsed.ok) return parsed;
  const { head } = parsed;
  if (head.origin !== key.keyName)
    return { ok: false, reason: `origin ${head.origin} is not the key's name` };
  if (
    head.origin !== checkpoint.origin ||
    head.treeSize !== checkpoint.treeSize ||
    toHex(head.rootHash) !== checkpoint.rootHash
  ) {
    return { ok: false, reason: "the signed text differs from the checkpoint's fields" };
  }
  return { ok: true, head };
};

/** A receipt in its domain shape (the fields that are hashed). */
export const receiptOf = (r: AnchorReceiptFieldsFragment): AnchorReceipt => ({
  backend: r.backend,
  anchorId: r.anchorId,
  seq: r.seq,
  prevHash: r.prevHash,
  anchoredAt: r.anchoredAt,
  entry: { ...r.entry },
  recordHash: r.recordHash,
});
