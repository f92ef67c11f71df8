import { AppError, ErrorCode } from "../../domain/errors.js";
import { hashFromHex, nodeHash, toHex } from "../../domain/merkle.js";
import { childrenOf, type NodeKey, nodeKeyId } from "../../domain/merkle-nodes.js";

/** How a store reads and keeps the nodes of one tenant's ledger. */
export interface NodeIo {
  /** Leaf hashes (hex) of these indexes that exist, by index. */
  leaves(indexes: readonly number[]): Promise<Map<number, string>>;
  /** Stored nodes (level ≥ 1) among these, by `nodeKeyId`. */
  stored(keys: readonly NodeKey[]): Promise<Map<string, string>>;
  /** Keeps computed nodes; one already kept is left as it is (it can only be equal). */
  keep(nodes: readonly { key: NodeKey; hash: string }[]): Promise<void>;
}

/**
 * The nodes asked for, in order. A node not stored yet is computed from its children (read, or
 * computed the same way, down to the leaves) and kept, so that it is computed once: a ledger's nodes
 * are filled in as proofs and roots need them, one read per level of what is missing and usually a
 * single read of the O(log n) nodes asked for. The same on every store; rejects NOT_FOUND for a node
 * beyond the ledger's leaves.
 */
export const readNodes = async (keys: readonly NodeKey[], io: NodeIo): Promise<string[]> => {
  const known = new Map<string, string>();
  const toCompute: NodeKey[][] = [];
  let pending = unique(keys);
  while (pending.length > 0) {
    const leaves = pending.filter((k) => k.level === 0);
    const inner = pending.filter((k) => k.level > 0);
    if (leaves.length > 0) {
      const found = await io.leaves(leaves.map((k) => k.index));
      for (const k of leaves) {
        const hash = found.get(k.index);
        if (hash === undefined) throw beyondLedger(k);
        known.set(nodeKeyId(k), hash);
      }
    }
    const stored = inner.length > 0 ? await io.stored(inner) : new Map<string, string>();
    for (const [id, hash] of stored) known.set(id, hash);
    const missing = inner.filter((k) => !stored.has(nodeKeyId(k)));
    toCompute.push(missing);
    pending = unique(missing.flatMap(childrenOf).filter((k) => !known.has(nodeKeyId(k))));
  }
  const computed: { key: NodeKey; hash: string }[] = [];
  // Children are always found after their parents: compute the last-found first.
  for (const batch of toCompute.reverse()) {
    for (const key of batch) {
      const [left, right] = childrenOf(key).map((c) => hashFromHex(known.get(nodeKeyId(c)) as string));
      const hash = toHex(nodeHash(left as Uint8Array, right as Uint8Array));
      known.set(nodeKeyId(key), hash);
      computed.push({ key, hash });
    }
  }
  if (computed.length > 0) await io.keep(computed);
  return keys.map((k) => known.get(nodeKeyId(k)) as string);
};

const unique = (keys: readonly NodeKey[]): NodeKey[] => [
  ...new Map(keys.map((k) => [nodeKeyId(k), k])).values(),
];

const beyondLedger = (k: NodeKey) =>
  new AppError(ErrorCode.NotFound, `The ledger holds no leaf ${k.index} (node ${nodeKeyId(k)}).`);
