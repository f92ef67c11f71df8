import type { AnchorEntry, AnchorReceipt, AnchorVerification } from "../domain/anchor.js";

/**
 * An append-only place to anchor signed checkpoints (docs/design.md, Semantics "Provenance"). Each backend keeps a
 * hash chain of records (see domain/anchor.ts); `verify` re-reads the chain and recomputes it.
 */
export interface AnchorBackend {
  /** Stable name, stored in every receipt ("file", "mongo"). */
  readonly name: string;
  /** Appends the entry durably and returns its receipt. Throws AppError (STORE_UNAVAILABLE, …). */
  anchor(entry: AnchorEntry): Promise<AnchorReceipt>;
  /**
   * Re-verifies a receipt of this backend by recomputing every hash from the chain's start to the
   * receipt's record. Resolves `{valid: false, reason}` for tampering; rejects only when the backend
   * cannot be read.
   */
  verify(receipt: AnchorReceipt): Promise<AnchorVerification>;
  /** Releases what the backend opened itself (not injected clients). */
  close(): Promise<void>;
}
