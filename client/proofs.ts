import type { AnchorReceipt } from "../src/domain/anchor.js";
import { type AgentLeafInput, agentLeafHash } from "../src/domain/leaf.js";
import { type LedgerEntry, ledgerLeafHash } from "../src/domain/ledger.js";
import {
  hashFromHex,
  isHashHex,
  merkleRootFromLeafHashes,
  toHex,
  verifyInclusion,
} from "../src/domain/merkle.js";
import type { Vote } from "../src/domain/run.js";
import { runTraceRoot, type TranscriptEntry, transcriptRoot } from "../src/domain/transcript.js";
import { sameUsage, summariseUsage, type UsageSummary, usageCounts } from "../src/domain/usage.js";
import type {
  AnchorReceiptFieldsFragment,
  InclusionProofFieldsFragment,
  LedgerEntryFieldsFragment,
  ProvenanceAgentFieldsFragment,
  ProvenanceRunFieldsFragment,
  TranscriptEntryFieldsFragment,
} from "./generated/graphql.js";

/**
 * The building blocks of client/verify.ts, on the generated types of client/operations/provenance.graphql.
 * Every hash is recomputed from the data with the server's own pure functions (src/domain); nothing the
 * server says about a hash is taken on trust. Browser-safe, like all of client/ but client/cli.
 */

/** What a check is about: the run as a whole, one agent's leaf, debate, proof or transcript, the ledger, … */
export type CheckKind =
  | "run"
  | "leaf"
  | "debate"
  | "inclusion"
  | "trace"
  | "root"
  | "ledger"
  | "checkpoint"
  | "anchor"
  | "consistency";

/** One named check and its outcome. */
export interface Check {
  readonly kind: CheckKind;
  readonly name: string;
  readonly ok: boolean;
  readonly detail?: string;
  /** The agent the check is about, when it is about one. */
  readonly agentId?: string;
}

const hex = (value: string): Uint8Array | null => (isHashHex(value) ? hashFromHex(value) : null);

/** The hashes of hex strings; null when any of them is not a hash. */
export const hashesFromHex = (values: readonly string[]): Uint8Array[] | null =>
  values.every(isHashHex) ? values.map(hashFromHex) : null;

/** The leaf fields (docs/provenance.md) of an agent as the API returns it. */
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
      votes: r.debate.votes.map(voteOf),
      consensusReached: r.debate.consensusReached,
      verdict: r.debate.verdict,
    },
    traits: { exploration, precision, creativity, skepticism, verbosity },
  };
};

type VoteFields = NonNullable<ProvenanceAgentFieldsFragment["result"]>["debate"]["votes"][number];
const HUMAN_VOTE_FIELDS = ["decision", "keyId", "comment", "timedOut"] as const;

/**
 * A vote as the server hashed it: a HUMAN vote (a review decision) commits to who decided and how,
 * null fields included; other votes have none of these fields, so any value there is a change.
 */
const voteOf = (v: VoteFields): Vote => {
  const vote: Record<string, unknown> = { voter: v.voter, agrees: v.agrees, weight: v.weight };
  for (const f of HUMAN_VOTE_FIELDS) if (v.voter === "HUMAN" || v[f] !== null) vote[f] = v[f];
  return vote as unknown as Vote;
};

/** The leaf hash (hex) recomputed from an agent's result; null when it has none. */
export const recomputeAgentLeaf = (runId: string, agent: ProvenanceAgentFieldsFragment): string | null => {
  const input = agentLeafInputOf(runId, agent);
  return input && toHex(agentLeafHash(input));
};

/**
 * A parameter's hashed value: its number or its text, exactly one of which is set. Anything else was
 * never hashed, so it becomes a value no entry holds and the trace root no longer matches.
 */
const paramValue = (p: { value?: number | null; text?: string | null }): number | string => {
  const hasValue = p.value !== null && p.value !== undefined;
  const hasText = p.text !== null && p.text !== undefined;
  if (hasValue && !hasText) return p.value as number;
  if (hasText && !hasValue) return p.text as string;
  return `${String(p.value)}|${String(p.text)}`;
};

/** A transcript entry in exactly the shape that was hashed (params back to an object). */
export const transcriptEntryOf = (e: TranscriptEntryFieldsFragment): TranscriptEntry => ({
  index: e.index,
  kind: e.kind,
  round: e.round,
  request: {
    system: e.request.system,
    messages: e.request.messages.map((m) => ({ role: m.role, content: m.content })),
    params: Object.fromEntries(e.request.params.map((p) => [p.name, paramValue(p)])),
    json: e.request.json,
  },
  // Entries recorded before providers (or usage) were recorded were hashed without those fields.
  response: {
    content: e.response.content,
    model: e.response.model,
    ...(e.response.provider == null ? {} : { provider: e.response.provider }),
    ...(e.response.usage ? { usage: usageCounts(e.response.usage) } : {}),
  },
});

/** The trace root (hex) recomputed from an agent's transcript; null when it has no entries. */
export const recomputeTraceRoot = (transcript: readonly TranscriptEntryFieldsFragment[]): string | null =>
  transcript.length > 0 ? transcriptRoot(transcript.map(transcriptEntryOf)) : null;

/** The Merkle root (hex) of leaf hashes (hex) in leaf order; "" when any of them is not a hash. */
export const recomputeMerkleRoot = (leafHashes: readonly string[]): string => {
  const leaves = hashesFromHex(leafHashes);
  return leaves === null ? "" : toHex(merkleRootFromLeafHashes(leaves));
};

/** A run's trace root (hex) recomputed from its agents' trace roots in leaf order; null when one is malformed. */
export const recomputeRunTraceRoot = (traceRoots: readonly string[]): string | null =>
  traceRoots.every(isHashHex) ? runTraceRoot(traceRoots) : null;

/** True when the run's ledger entry names the run, its roots and leaf count, and hashes to the proof's leaf. */
export const ledgerEntryCommitsToRun = (run: ProvenanceRunFieldsFragment): boolean => {
  const lp = run.ledgerProof;
  return (
    lp !== null &&
    lp.entry.runId === run.id &&
    lp.entry.merkleRoot === (run.merkleRoot ?? "") &&
    lp.entry.traceRoot === (run.traceRoot ?? "") &&
    lp.entry.leafCount === run.leafOrder.length &&
    toHex(ledgerLeafHash(ledgerEntryOf(lp.entry))) === lp.leafHash
  );
};

/** A summary's committed JSON, parsed; null when it is not JSON of a summary's shape. */
const parseUsage = (json: string): UsageSummary | null => {
  try {
    const u = JSON.parse(json) as UsageSummary;
    return Array.isArray(u.byModel) && Array.isArray(u.byRole) && typeof u.total === "object" ? u : null;
  } catch {
    return null;
  }
};

/**
 * A ledger entry in its domain shape: the usage (sent as the canonical JSON that was committed) parsed.
 * Usage that does not parse becomes null, so the entry no longer hashes to its leaf.
 */
export const ledgerEntryOf = (e: LedgerEntryFieldsFragment): LedgerEntry => ({
  runId: e.runId,
  merkleRoot: e.merkleRoot,
  traceRoot: e.traceRoot,
  leafCount: e.leafCount,
  recordedAt: e.recordedAt,
  usage: e.usage === null || e.usage === undefined ? null : parseUsage(e.usage),
});

/**
 * Whether the bill in the run's ledger entry is what its transcripts record: the usage recomputed
 * from the leaf agents' transcript entries (each hashed into the trace root) equals the entry's.
 * Null for an entry appended before usage was committed: there is nothing to check.
 */
export const ledgerUsageMatchesTranscripts = (run: ProvenanceRunFieldsFragment): boolean | null => {
  const entry = run.ledgerProof?.entry;
  if (entry?.usage === null || entry?.usage === undefined) return null;
  const committed = ledgerEntryOf(entry).usage;
  if (committed === null || committed === undefined) return false;
  const byId = new Map(run.agents.map((a) => [a.id, a]));
  const leaves = run.leafOrder.map((id) => byId.get(id));
  if (leaves.some((a) => a === undefined)) return false;
  const recomputed = summariseUsage(
    leaves.map((a) => ({
      role: (a as ProvenanceAgentFieldsFragment).role,
      transcript: (a as ProvenanceAgentFieldsFragment).transcript.map(transcriptEntryOf),
    })),
  );
  return sameUsage(recomputed, committed);
};

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
  const path = hashesFromHex(proof.auditPath);
  if (leaf === null || root === null || path === null) return false;
  return (
    proof.leafHash === expected.leafHash &&
    proof.root === expected.root &&
    proof.leafIndex === expected.leafIndex &&
    proof.treeSize === expected.treeSize &&
    verifyInclusion({
      leafIndex: proof.leafIndex,
      treeSize: proof.treeSize,
      leafHash: leaf,
      auditPath: path,
      root,
    })
  );
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
