import type { AnchorReceipt } from "../domain/anchor.js";
import type { LedgerEntry } from "../domain/ledger.js";
import type { NodeKey } from "../domain/merkle-nodes.js";

/** One stored ledger leaf. */
export interface LedgerRecord {
  readonly tenantId: string;
  /** 0-based position in the tenant's ledger. */
  readonly index: number;
  readonly entry: LedgerEntry;
  /** RFC 6962 leaf hash (hex) of the entry, kept so roots need no re-hashing of entries. */
  readonly leafHash: string;
}

/** A signed tree head of a tenant's ledger. */
export interface StoredCheckpoint {
  readonly tenantId: string;
  readonly treeSize: number;
  /** Root hash (hex) at treeSize. */
  readonly rootHash: string;
  /** The whole C2SP signed note (checkpoint text, blank line, signature line). */
  readonly note: string;
  readonly createdAt: Date;
}

/** The deployment's ledger signing key when it was generated rather than configured. */
export interface StoredSigningKey {
  /** Base64 of the 32-byte Ed25519 seed. */
  readonly seed: string;
  /** Base64 of the 32-byte public key. */
  readonly publicKey: string;
  readonly createdAt: Date;
}

/** Each tenant's append-only ledger of finished runs. */
export interface LedgerStore {
  /**
   * Appends at the tenant's next index and returns the stored record. Concurrent appends (in this or
   * another process) get distinct, gap-free indexes.
   */
  append(tenantId: string, entry: LedgerEntry, leafHash: string): Promise<LedgerRecord>;
  /** Number of entries in the tenant's ledger. */
  size(tenantId: string): Promise<number>;
  /**
   * Leaf hashes of indexes `from` … count−1 (from 0 unless given), in order. Rejects NOT_FOUND when the
   * ledger is shorter than `count`.
   */
  leafHashes(tenantId: string, count: number, from?: number): Promise<string[]>;
  /** The entry of a run, or null. */
  findByRun(tenantId: string, runId: string): Promise<LedgerRecord | null>;
  /**
   * Roots (hex) of perfect subtrees of the ledger, in the order asked for (level 0: leaf hashes; see
   * domain/merkle-nodes.ts): what a proof or root needs, O(log n) of them. Rejects NOT_FOUND for a
   * node whose last leaf the ledger does not hold yet.
   */
  nodes(tenantId: string, keys: readonly NodeKey[]): Promise<string[]>;
}

/** Signed checkpoints of each tenant's ledger, one per tree size. */
export interface CheckpointStore {
  /** Stores a checkpoint; a different checkpoint for the same size is rejected with CONFLICT. */
  put(checkpoint: StoredCheckpoint): Promise<void>;
  get(tenantId: string, treeSize: number): Promise<StoredCheckpoint | null>;
  /** The checkpoint with the largest tree size, or null. */
  latest(tenantId: string): Promise<StoredCheckpoint | null>;
}

/** Anchor receipts of each run. */
export interface ReceiptStore {
  add(tenantId: string, runId: string, receipt: AnchorReceipt): Promise<void>;
  /** A run's receipts in the order they were added. */
  listByRun(tenantId: string, runId: string): Promise<AnchorReceipt[]>;
}

/**
 * The one signing key of the deployment. Deliberately not scoped by tenant: it is the log operator's key
 * (every tenant's ledger is a separate log with its own origin, all signed by it), and it holds no tenant
 * data.
 */
export interface SigningKeyStore {
  /** The stored key, or `candidate` stored now when there is none: the first writer wins everywhere. */
  getOrCreate(candidate: StoredSigningKey): Promise<StoredSigningKey>;
}

/** Persistence of the provenance records: ledgers, checkpoints, anchor receipts and the signing key. */
export interface ProvenanceStore {
  readonly ledger: LedgerStore;
  readonly checkpoints: CheckpointStore;
  readonly receipts: ReceiptStore;
  readonly signingKey: SigningKeyStore;
  close(): Promise<void>;
}
