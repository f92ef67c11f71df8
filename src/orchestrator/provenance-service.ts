import { type AnchorReceipt, type AnchorVerification, invalid } from "../domain/anchor.js";
import { ledgerOrigin } from "../domain/checkpoint.js";
import { AppError, badInput, ErrorCode } from "../domain/errors.js";
import type { LedgerEntry } from "../domain/ledger.js";
import { hashFromHex, inclusionProof, merkleRootFromLeafHashes, toHex } from "../domain/merkle.js";
import { consistencyPath, inclusionPath } from "../domain/merkle-nodes.js";
import { keyIdHex, noteKeyId, noteVerifierKey, toBase64 } from "../domain/signed-note.js";
import type { StoredCheckpoint } from "../ports/provenance-store.js";
import type { Store } from "../ports/stores.js";
import { checkpointAt, overLedgerNodes, type ProvenanceDeps } from "./provenance-hook.js";

/** An RFC 9162 inclusion proof with every hash in hex. */
export interface InclusionProofView {
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly leafHash: string;
  /** From the leaf's sibling up to the root's child. */
  readonly auditPath: string[];
  /** The root the path leads to, recomputed from the stored leaves. */
  readonly root: string;
}

/** A run's ledger entry, its inclusion proof in the ledger at treeSize and the checkpoint signed there. */
export interface LedgerProofView extends InclusionProofView {
  readonly entry: LedgerEntry;
  readonly checkpoint: StoredCheckpoint;
}

/** An RFC 9162 consistency proof between two sizes of a ledger, with both roots. */
export interface ConsistencyProofView {
  readonly firstSize: number;
  readonly secondSize: number;
  readonly firstRoot: string;
  readonly secondRoot: string;
  readonly proof: string[];
}

/** The tenant's ledger verifier key in the forms clients use. */
export interface LedgerKeyView {
  readonly keyName: string;
  readonly keyId: string;
  readonly algorithm: "Ed25519";
  /** Base64 of the 32-byte public key. */
  readonly publicKey: string;
  /** golang.org/x/mod/sumdb/note verifier key: `<name>+<key ID>+<base64(0x01 ‖ key)>`. */
  readonly verifierKey: string;
}

/** Read side of provenance, for resolvers. Every method is scoped by tenant; others' ids read as missing. */
export interface ProvenanceService {
  /** Inclusion proof of an agent's result in its run's tree; null for an unknown run/agent or a run without a root. */
  inclusionProof(tenantId: string, runId: string, agentId: string): Promise<InclusionProofView | null>;
  /** The proofs of several agents of one run, in the order asked, from one read (for batching resolvers). */
  inclusionProofs(
    tenantId: string,
    runId: string,
    agentIds: readonly string[],
  ): Promise<(InclusionProofView | null)[]>;
  /** The run's ledger proof at treeSize (default: the latest checkpoint); null when the run is not in the ledger. */
  ledgerProof(tenantId: string, runId: string, treeSize?: number): Promise<LedgerProofView | null>;
  /** The checkpoint at treeSize (default: the latest), or null. */
  checkpoint(tenantId: string, treeSize?: number): Promise<StoredCheckpoint | null>;
  /** Consistency proof between two sizes; BAD_USER_INPUT unless 0 ≤ first ≤ second ≤ ledger size. */
  consistencyProof(tenantId: string, firstSize: number, secondSize: number): Promise<ConsistencyProofView>;
  publicKey(tenantId: string): LedgerKeyView;
  receipts(tenantId: string, runId: string): Promise<AnchorReceipt[]>;
  /** Re-verifies a receipt with the backend that issued it (which recomputes its chain). */
  verifyReceipt(receipt: AnchorReceipt): Promise<AnchorVerification>;
}

const rootOf = (leaves: readonly Uint8Array[]): string => toHex(merkleRootFromLeafHashes(leaves));

const checkSize = (name: string, value: number): void => {
  if (!Number.isSafeInteger(value) || value < 0) throw badInput(`${name} must be 0 or more; got ${value}.`);
};

/**
 * Inclusion proofs of several agents of one run, from one read of the run and its leaves (null for
 * an agent that is not a leaf of a finished run).
 */
const inclusionProofs = async (
  deps: { readonly store: Pick<Store, "runs" | "agents"> },
  tenantId: string,
  runId: string,
  agentIds: readonly string[],
): Promise<(InclusionProofView | null)[]> => {
  const run = await deps.store.runs.get(tenantId, runId);
  if (run === null || run.merkleRoot === null) return agentIds.map(() => null);
  const agents = new Map((await deps.store.agents.getMany(tenantId, run.leafOrder)).map((a) => [a.id, a]));
  const leaves = run.leafOrder.map((id) => {
    const hash = agents.get(id)?.result?.contextHash;
    if (hash === undefined)
      throw new AppError(ErrorCode.Internal, `Leaf ${id} of run ${runId} has no result.`);
    return hashFromHex(hash);
  });
  const root = rootOf(leaves);
  return agentIds.map((agentId) => {
    const leafIndex = run.leafOrder.indexOf(agentId);
    if (leafIndex < 0) return null;
    return {
      leafIndex,
      treeSize: leaves.length,
      leafHash: toHex(leaves[leafIndex] as Uint8Array),
      auditPath: inclusionProof(leafIndex, leaves).map(toHex),
      root,
    };
  });
};

/** The read side over the run store (for results) and the provenance deps (for the ledger). */
export const createProvenanceService = (
  deps: ProvenanceDeps & { readonly store: Pick<Store, "runs" | "agents"> },
): ProvenanceService => ({
  async inclusionProof(tenantId, runId, agentId) {
    return (await inclusionProofs(deps, tenantId, runId, [agentId]))[0] ?? null;
  },

  inclusionProofs: (tenantId, runId, agentIds) => inclusionProofs(deps, tenantId, runId, agentIds),

  async ledgerProof(tenantId, runId, treeSize) {
    const record = await deps.provenance.ledger.findByRun(tenantId, runId);
    if (record === null) return null;
    // Default: the latest checkpoint, or the entry's own when that was never signed (a crash in between).
    const latest = (await deps.provenance.checkpoints.latest(tenantId))?.treeSize ?? 0;
    const size = treeSize ?? Math.max(latest, record.index + 1);
    checkSize("treeSize", size);
    const ledgerSize = await deps.provenance.ledger.size(tenantId);
    if (size <= record.index || size > ledgerSize) {
      throw badInput(`treeSize must be from ${record.index + 1} to ${ledgerSize}; got ${size}.`, {
        argument: "treeSize",
      });
    }
    const { auditPath, root } = await overLedgerNodes(deps, tenantId, (rangeRoot) => ({
      auditPath: inclusionPath(record.index, size, rangeRoot).map(toHex),
      root: toHex(rangeRoot(0, size)),
    }));
    return {
      entry: record.entry,
      leafIndex: record.index,
      treeSize: size,
      leafHash: record.leafHash,
      auditPath,
      root,
      checkpoint: await checkpointAt(deps, tenantId, size),
    };
  },

  async checkpoint(tenantId, treeSize) {
    if (treeSize === undefined) return deps.provenance.checkpoints.latest(tenantId);
    checkSize("treeSize", treeSize);
    if (treeSize === 0 || treeSize > (await deps.provenance.ledger.size(tenantId))) return null;
    return checkpointAt(deps, tenantId, treeSize);
  },

  async consistencyProof(tenantId, firstSize, secondSize) {
    checkSize("firstSize", firstSize);
    checkSize("secondSize", secondSize);
    const ledgerSize = await deps.provenance.ledger.size(tenantId);
    if (firstSize > secondSize || secondSize > ledgerSize) {
      throw badInput(
        `Need firstSize ≤ secondSize ≤ ${ledgerSize} (the ledger's size); got ${firstSize}, ${secondSize}.`,
      );
    }
    return overLedgerNodes(deps, tenantId, (rangeRoot) => ({
      firstSize,
      secondSize,
      firstRoot: toHex(rangeRoot(0, firstSize)),
      secondRoot: toHex(rangeRoot(0, secondSize)),
      proof: consistencyPath(firstSize, secondSize, rangeRoot).map(toHex),
    }));
  },

  publicKey(tenantId) {
    const keyName = ledgerOrigin(deps.originPrefix, tenantId);
    const { publicKey } = deps.signer;
    return {
      keyName,
      keyId: keyIdHex(noteKeyId(keyName, publicKey)),
      algorithm: "Ed25519",
      publicKey: toBase64(publicKey),
      verifierKey: noteVerifierKey(keyName, publicKey),
    };
  },

  receipts: (tenantId, runId) => deps.provenance.receipts.listByRun(tenantId, runId),

  async verifyReceipt(receipt) {
    const backend = deps.anchors.find((b) => b.name === receipt.backend);
    return backend === undefined
      ? invalid(`no anchor backend named ${receipt.backend} is configured`)
      : backend.verify(receipt);
  },
});
