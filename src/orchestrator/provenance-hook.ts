import type { AnchorEntry } from "../domain/anchor.js";
import { sha256Hex } from "../domain/canonical.js";
import { checkpointText, ledgerOrigin } from "../domain/checkpoint.js";
import type { Ed25519Signer } from "../domain/ed25519.js";
import { AppError, ErrorCode } from "../domain/errors.js";
import { type LedgerEntry, ledgerLeafHash } from "../domain/ledger.js";
import { hashFromHex, toHex } from "../domain/merkle.js";
import { nodeKeyId, nodesNeededBy, type RangeRoot, rangeRootFrom } from "../domain/merkle-nodes.js";
import { signNote } from "../domain/signed-note.js";
import { summariseUsage } from "../domain/usage.js";
import type { AnchorBackend } from "../ports/anchor.js";
import type { Clock } from "../ports/clock.js";
import type { ProvenanceStore, StoredCheckpoint } from "../ports/provenance-store.js";
import type { RunHook } from "./hooks.js";

/** What the provenance steps need; app.ts builds it once. */
export interface ProvenanceDeps {
  readonly provenance: ProvenanceStore;
  /** Where checkpoints are anchored, in order; may be empty. */
  readonly anchors: readonly AnchorBackend[];
  /** The deployment's ledger key. */
  readonly signer: Ed25519Signer;
  /** Ledger origins are `<originPrefix>/<tenant>`; each is also its checkpoints' key name. */
  readonly originPrefix: string;
  readonly clock: Clock;
}

/** Name of the hook in logs. */
export const PROVENANCE_HOOK_NAME = "provenance";

/** Computes the root of a tenant's ledger at a tree size. */
export type LedgerRootAt = (tenantId: string, treeSize: number) => Promise<Uint8Array>;

/**
 * A computation over ranges of a tenant's ledger (proofs, roots), from the O(log n) stored subtree
 * roots it needs: one read of the ledger's nodes (domain/merkle-nodes.ts).
 */
export const overLedgerNodes = async <T>(
  deps: Pick<ProvenanceDeps, "provenance">,
  tenantId: string,
  compute: (rangeRoot: RangeRoot) => T,
): Promise<T> => {
  const keys = nodesNeededBy(compute);
  const hashes = await deps.provenance.ledger.nodes(tenantId, keys);
  return compute(
    rangeRootFrom(new Map(keys.map((k, i) => [nodeKeyId(k), hashFromHex(hashes[i] as string)]))),
  );
};

/** The root of the ledger's first `treeSize` leaves, from its stored subtree roots. */
const rootFromNodes =
  (deps: ProvenanceDeps): LedgerRootAt =>
  (tenantId, treeSize) =>
    overLedgerNodes(deps, tenantId, (rangeRoot) => rangeRoot(0, treeSize));

/**
 * The signed checkpoint of the tenant's ledger at `treeSize`, made and stored when missing. Leaves never
 * change, so any two checkpoints of one ledger are consistent (tlog-checkpoint §Signatures).
 */
export const checkpointAt = async (
  deps: ProvenanceDeps,
  tenantId: string,
  treeSize: number,
  rootAt: LedgerRootAt = rootFromNodes(deps),
): Promise<StoredCheckpoint> => {
  const existing = await deps.provenance.checkpoints.get(tenantId, treeSize);
  return existing ?? signCheckpointAt(deps, tenantId, treeSize, rootAt);
};

/**
 * The signed checkpoint at `treeSize`, made and stored without looking for a stored one first: for a
 * size the caller has just appended, which almost never has one. Should another instance have stored
 * it meanwhile, the store keeps that one (the same note: Ed25519 signatures are deterministic).
 */
const signCheckpointAt = async (
  deps: ProvenanceDeps,
  tenantId: string,
  treeSize: number,
  rootAt: LedgerRootAt,
): Promise<StoredCheckpoint> => {
  const root = await rootAt(tenantId, treeSize);
  const origin = ledgerOrigin(deps.originPrefix, tenantId);
  const checkpoint: StoredCheckpoint = {
    tenantId,
    treeSize,
    rootHash: toHex(root),
    note: signNote(checkpointText({ origin, treeSize, rootHash: root }), origin, deps.signer),
    createdAt: deps.clock.now(),
  };
  await deps.provenance.checkpoints.put(checkpoint);
  return checkpoint;
};

/**
 * After every successful run: append {runId, merkleRoot, traceRoot, leafCount, recordedAt, usage} to the tenant's
 * ledger, sign the checkpoint of the ledger at that entry, anchor it with every backend, store each
 * receipt and emit AnchorRecorded naming it. A run already in the ledger is not appended again. A backend
 * that fails does not stop the others; the hook then throws so the failure is reported.
 */
export const createProvenanceHook = (deps: ProvenanceDeps): RunHook => {
  // Appends of one tenant are serialised here; the store still resolves races between processes.
  const tails = new Map<string, Promise<unknown>>();
  const rootAt = rootFromNodes(deps);
  const serialised = <T>(tenantId: string, step: () => Promise<T>): Promise<T> => {
    const run = (tails.get(tenantId) ?? Promise.resolve()).then(step);
    const tail = run.catch(() => undefined);
    tails.set(tenantId, tail);
    void tail.then(() => {
      if (tails.get(tenantId) === tail) tails.delete(tenantId);
    });
    return run;
  };

  return {
    name: PROVENANCE_HOOK_NAME,
    async afterRun({ run, agents, emit }) {
      if (run.merkleRoot === null || run.traceRoot === null) {
        throw new AppError(
          ErrorCode.Internal,
          `Run ${run.id} finished without its roots; nothing to record.`,
        );
      }
      const entry: LedgerEntry = {
        runId: run.id,
        merkleRoot: run.merkleRoot,
        traceRoot: run.traceRoot,
        leafCount: run.leafOrder.length,
        recordedAt: deps.clock.now().toISOString(),
        // The bill, from the transcripts the entry's traceRoot commits to (client/verify.ts recomputes it).
        usage: summariseUsage(agents),
      };
      const { tenantId } = run;
      const { checkpoint, recordedBefore } = await serialised(tenantId, async () => {
        const recorded = await deps.provenance.ledger.findByRun(tenantId, run.id);
        // A run recorded before (a retried hook) may have its checkpoint already; a new entry has none.
        if (recorded !== null) {
          return {
            checkpoint: await checkpointAt(deps, tenantId, recorded.index + 1, rootAt),
            recordedBefore: true,
          };
        }
        const record = await deps.provenance.ledger.append(tenantId, entry, toHex(ledgerLeafHash(entry)));
        return {
          checkpoint: await signCheckpointAt(deps, tenantId, record.index + 1, rootAt),
          recordedBefore: false,
        };
      });
      const anchorEntry: AnchorEntry = {
        origin: ledgerOrigin(deps.originPrefix, tenantId),
        runId: run.id,
        treeSize: checkpoint.treeSize,
        rootHash: checkpoint.rootHash,
        checkpointHash: sha256Hex(checkpoint.note),
      };
      // A retried hook (its run resumed by another worker, or a store that failed on the way) keeps
      // the receipts it already has: each backend anchors a run's checkpoint once.
      const held = recordedBefore ? await deps.provenance.receipts.listByRun(tenantId, run.id) : [];
      const failures: unknown[] = [];
      for (const backend of deps.anchors) {
        const anchored = held.some(
          (r) => r.backend === backend.name && r.entry.checkpointHash === anchorEntry.checkpointHash,
        );
        if (anchored) continue;
        try {
          const receipt = await backend.anchor(anchorEntry);
          await deps.provenance.receipts.add(tenantId, run.id, receipt);
          await emit({ type: "AnchorRecorded", backend: receipt.backend, recordHash: receipt.recordHash });
        } catch (e) {
          failures.push(e);
        }
      }
      if (failures.length > 0) {
        throw new AppError(
          ErrorCode.Internal,
          `Anchoring run ${run.id} failed with ${failures.length} backend(s).`,
          {
            cause: failures.length === 1 ? failures[0] : new AggregateError(failures),
          },
        );
      }
    },
  };
};
