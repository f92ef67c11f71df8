import { badInput } from "./errors.js";
import { emptyRoot, nodeHash } from "./merkle.js";

/**
 * RFC 6962 proofs and roots from the stored roots of perfect subtrees, so that a proof in a ledger of
 * n leaves reads O(log n) hashes instead of every leaf. A node (level, index) is the root of the
 * perfect subtree over leaves index·2^level … (index+1)·2^level − 1; level 0 is the leaf itself. It
 * never changes once its last leaf exists, so stores may keep it forever. Every range an RFC 6962
 * proof or root needs splits into such aligned perfect pieces, largest first, and its MTH is their
 * roots folded from the right.
 */

export interface NodeKey {
  readonly level: number;
  readonly index: number;
}

/** A stable string for a node key (map keys, document ids). */
export const nodeKeyId = (k: NodeKey): string => `${k.level}:${k.index}`;

/** The two children of a node above level 0. */
export const childrenOf = (k: NodeKey): [NodeKey, NodeKey] => [
  { level: k.level - 1, index: 2 * k.index },
  { level: k.level - 1, index: 2 * k.index + 1 },
];

/** The aligned perfect subtrees that D[start:end] is made of, left to right. */
export const piecesOf = (start: number, end: number): NodeKey[] => {
  const pieces: NodeKey[] = [];
  let at = start;
  while (at < end) {
    let level = 0;
    // The largest power of two that `at` is aligned to and that still fits before `end`.
    while (at % 2 ** (level + 1) === 0 && at + 2 ** (level + 1) <= end) level++;
    pieces.push({ level, index: at / 2 ** level });
    at += 2 ** level;
  }
  return pieces;
};

/** MTH(D[start:end]) for the range a proof needs, from the roots of its pieces. */
export type RangeRoot = (start: number, end: number) => Uint8Array;

/** The root of D[start:end] from a map of node hashes by `nodeKeyId` (which must hold its pieces). */
export const rangeRootFrom =
  (nodes: ReadonlyMap<string, Uint8Array>): RangeRoot =>
  (start, end) => {
    const pieces = piecesOf(start, end);
    if (pieces.length === 0) return emptyRoot();
    const hashOf = (k: NodeKey) => {
      const hash = nodes.get(nodeKeyId(k));
      if (hash === undefined) throw new Error(`node ${nodeKeyId(k)} was not read`);
      return hash;
    };
    let root = hashOf(pieces.at(-1) as NodeKey);
    for (let i = pieces.length - 2; i >= 0; i--) root = nodeHash(hashOf(pieces[i] as NodeKey), root);
    return root;
  };

/**
 * The nodes a computation over ranges reads: it is run once with placeholder hashes (proof shapes
 * depend on sizes only, never on hash values) and every range it asks for is split into pieces.
 */
export const nodesNeededBy = (compute: (rangeRoot: RangeRoot) => unknown): NodeKey[] => {
  const needed = new Map<string, NodeKey>();
  const placeholder = new Uint8Array(32);
  compute((start, end) => {
    for (const k of piecesOf(start, end)) needed.set(nodeKeyId(k), k);
    return placeholder;
  });
  return [...needed.values()];
};

const largestPowerOfTwoBelow = (n: number): number => {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
};

/** RFC 9162 §2.1.3.1 PATH(m, D[n]) over range roots, from the leaf's sibling up. */
export const inclusionPath = (leafIndex: number, treeSize: number, rangeRoot: RangeRoot): Uint8Array[] => {
  if (!Number.isSafeInteger(leafIndex) || leafIndex < 0 || leafIndex >= treeSize) {
    throw badInput(`Leaf index ${leafIndex} is outside a tree of ${treeSize} leaves`, {
      leafIndex,
      treeSize,
    });
  }
  const path: Uint8Array[] = [];
  let start = 0;
  let end = treeSize;
  while (end - start > 1) {
    const k = largestPowerOfTwoBelow(end - start);
    if (leafIndex < start + k) {
      path.push(rangeRoot(start + k, end));
      end = start + k;
    } else {
      path.push(rangeRoot(start, start + k));
      start += k;
    }
  }
  return path.reverse();
};

/** RFC 9162 §2.1.4.1 PROOF(m, D[n]) over range roots. Empty when oldSize is 0 or treeSize. */
export const consistencyPath = (oldSize: number, treeSize: number, rangeRoot: RangeRoot): Uint8Array[] => {
  if (!Number.isSafeInteger(oldSize) || oldSize < 0 || oldSize > treeSize) {
    throw badInput(`Old tree size ${oldSize} is outside 0..${treeSize}`, { oldSize, treeSize });
  }
  const proof: Uint8Array[] = [];
  if (oldSize === 0 || oldSize === treeSize) return proof;
  let m = oldSize;
  let start = 0;
  let end = treeSize;
  let haveRoot = true;
  while (m !== end - start) {
    const k = largestPowerOfTwoBelow(end - start);
    if (m <= k) {
      proof.push(rangeRoot(start + k, end));
      end = start + k;
    } else {
      proof.push(rangeRoot(start, start + k));
      m -= k;
      start += k;
      haveRoot = false;
    }
  }
  if (!haveRoot) proof.push(rangeRoot(start, end));
  return proof.reverse();
};
