import { canonicalBytes } from "./canonical.js";
import { leafHash } from "./merkle.js";
import { canonicalUsage, type UsageSummary } from "./usage.js";

/**
 * One leaf of a tenant's append-only ledger of finished runs. It commits to both of the run's roots, so a
 * signed checkpoint over the ledger vouches for every agent result (through merkleRoot) and every LLM
 * exchange (through traceRoot) of every run in it.
 */
export interface LedgerEntry {
  readonly runId: string;
  /** The run's RFC 6962 root over its agent results (hex). */
  readonly merkleRoot: string;
  /** The run's trace root over its agents' transcript roots (hex). */
  readonly traceRoot: string;
  /** Leaves of the run's tree (its completed agents), i.e. the tree size of its inclusion proofs. */
  readonly leafCount: number;
  /**
   * When the entry was appended (ISO 8601, UTC, millisecond precision): just before the run is marked
   * finished, so a little earlier than the run's completedAt.
   */
  readonly recordedAt: string;
  /**
   * The run's token usage as its transcripts record it (the bill). Absent (or null) in entries
   * appended before usage was committed: their leaf data is the five fields above, unchanged.
   */
  readonly usage?: UsageSummary | null | undefined;
}

/**
 * The ledger leaf data: RFC 8785 canonical JSON (UTF-8) of exactly the {@link LedgerEntry} fields.
 * Two versions: without usage, the five fields of the first ledgers; with usage, six.
 */
export const ledgerLeafData = (entry: LedgerEntry): Uint8Array => {
  const { runId, merkleRoot, traceRoot, leafCount, recordedAt, usage } = entry;
  const base = { runId, merkleRoot, traceRoot, leafCount, recordedAt };
  return canonicalBytes(
    usage === undefined || usage === null ? base : { ...base, usage: canonicalUsage(usage) },
  );
};

/** The entry's RFC 6962 leaf hash, SHA-256(0x00 ‖ leaf data). */
export const ledgerLeafHash = (entry: LedgerEntry): Uint8Array => leafHash(ledgerLeafData(entry));
