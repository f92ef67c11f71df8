import { canonicalBytes } from "./canonical.js";
import { hashFromHex, leafHash, merkleRootFromLeafHashes, toHex } from "./merkle.js";
import type { UsageCounts } from "./usage.js";

/** One LLM exchange of an agent, as sent and as received. */
export interface TranscriptEntry {
  /** 0-based position in the agent's call order. */
  readonly index: number;
  readonly kind: string;
  readonly round: number;
  readonly request: {
    readonly system: string;
    readonly messages: readonly { readonly role: string; readonly content: string }[];
    /** The parameters as sent (LlmParams fields; reasoning levels are strings). */
    readonly params: Readonly<Record<string, number | string>>;
    readonly json: boolean;
  };
  readonly response: {
    readonly content: string;
    readonly model: string;
    /**
     * The configured provider that answered; absent on entries recorded before providers were, so
     * their hashes (which cover exactly the fields present) still verify.
     */
    readonly provider?: string;
    /**
     * The usage the server reported for this exchange (hashed with it, so a run's bill is proven by
     * its trace root). Absent in entries recorded before usage was recorded.
     */
    readonly usage?: UsageCounts;
  };
}

/** Leaf hash of one exchange: SHA-256(0x00 ‖ canonical JSON of the entry). */
export const transcriptLeafHash = (entry: TranscriptEntry): Uint8Array => leafHash(canonicalBytes(entry));

/** An agent's trace root: the RFC 6962 root over its exchanges in call order (hex). */
export const transcriptRoot = (entries: readonly TranscriptEntry[]): string =>
  toHex(merkleRootFromLeafHashes(entries.map(transcriptLeafHash)));

/**
 * A run's trace root (hex): the tree whose leaves are its agents' trace roots in leaf order, each
 * hashed as leaf data (SHA-256(0x00 ‖ 32 root bytes)) so a subtree root is never taken for a leaf.
 */
export const runTraceRoot = (agentTraceRoots: readonly string[]): string =>
  toHex(merkleRootFromLeafHashes(agentTraceRoots.map((h) => leafHash(hashFromHex(h)))));
