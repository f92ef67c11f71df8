import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, concatBytes, hexToBytes } from "@noble/hashes/utils.js";
import { AppError, badInput, ErrorCode } from "./errors.js";

/** Size in bytes of every hash in the tree (SHA-256). */
export const HASH_BYTES = 32;

const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);
const EMPTY_ROOT_HEX = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// Reused input buffer for nodeHash on two 32-byte children: 0x01 ‖ left ‖ right.
// Safe because hashing is synchronous and sha256 does not keep its input.
const nodeInput = new Uint8Array(1 + 2 * HASH_BYTES);
nodeInput[0] = 0x01;

/** RFC 6962 §2.1 / RFC 9162 §2.1.1: the leaf hash SHA-256(0x00 ‖ data). */
export function leafHash(data: Uint8Array): Uint8Array {
  return sha256.create().update(LEAF_PREFIX).update(data).digest();
}

/** RFC 6962 §2.1 / RFC 9162 §2.1.1: the interior node hash SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length === HASH_BYTES && right.length === HASH_BYTES) {
    nodeInput.set(left, 1);
    nodeInput.set(right, 1 + HASH_BYTES);
    return sha256(nodeInput);
  }
  return sha256(concatBytes(NODE_PREFIX, left, right));
}

/** RFC 6962 §2.1: the root of the empty tree, SHA-256 of the empty string (a fresh copy). */
export function emptyRoot(): Uint8Array {
  return hexToBytes(EMPTY_ROOT_HEX);
}

/**
 * RFC 6962 §2.1 / RFC 9162 §2.1.1 Merkle Tree Hash (MTH) over leaf hashes, in the given order.
 * MTH({}) = SHA-256(""); MTH({d0}) = d0's leaf hash; otherwise the tree splits at the largest power of two
 * smaller than n. Computed bottom-up (pairing adjacent nodes, promoting an odd last node), which yields the
 * same shape with n − 1 node hashes.
 */
export function merkleRootFromLeafHashes(leafHashes: readonly Uint8Array[]): Uint8Array {
  checkLeafHashes(leafHashes);
  return subtreeRoot(leafHashes, 0, leafHashes.length, []);
}

/**
 * The right edge of an RFC 6962 tree that grows by appends: the roots of the perfect subtrees its size
 * decomposes into (one per set bit of the size, largest first), as in certificate transparency's
 * "compact range". Appending a leaf and computing the root take O(log n) node hashes and no earlier
 * leaf, so a log that is signed after every append need not re-read itself.
 */
export class MerkleFrontier {
  #size = 0;
  readonly #nodes: Uint8Array[] = [];

  /** Number of leaves appended so far. */
  get size(): number {
    return this.#size;
  }

  /** Appends the next leaf's hash (a 32-byte RFC 6962 leaf hash). */
  append(leafHash: Uint8Array): void {
    checkLeafHashes([leafHash]);
    let node: Uint8Array = leafHash.slice(); // kept: the caller's array may change
    // Each trailing 1 bit of the old size is a perfect subtree that the new leaf now completes.
    for (let s = this.#size; s & 1; s >>>= 1) node = nodeHash(this.#nodes.pop() as Uint8Array, node);
    this.#nodes.push(node);
    this.#size++;
  }

  /** MTH of the leaves appended so far: the subtree roots folded from the right (RFC 6962 §2.1). */
  root(): Uint8Array {
    const nodes = this.#nodes;
    const last = nodes.at(-1);
    if (last === undefined) return emptyRoot();
    let root: Uint8Array = last.slice(); // a copy: the caller may change it, the frontier keeps building on it
    for (let i = nodes.length - 2; i >= 0; i--) root = nodeHash(nodes[i] as Uint8Array, root);
    return root;
  }
}

/**
 * RFC 9162 §2.1.3.1 PATH(m, D[n]): the audit path proving that leaf `leafIndex` is in the tree of
 * `leafHashes`, ordered from the leaf's sibling up to the root's child.
 */
export function inclusionProof(leafIndex: number, leafHashes: readonly Uint8Array[]): Uint8Array[] {
  checkLeafHashes(leafHashes);
  const n = leafHashes.length;
  if (!isSize(leafIndex) || leafIndex >= n) {
    throw badInput(`Leaf index ${leafIndex} is outside a tree of ${n} leaves`, { leafIndex, treeSize: n });
  }
  const path: Uint8Array[] = [];
  const scratch: Uint8Array[] = [];
  // PATH(m, D[start:end]): descend towards the leaf, collecting the other subtree's root at each split.
  let start = 0;
  let end = n;
  while (end - start > 1) {
    const k = largestPowerOfTwoBelow(end - start);
    if (leafIndex < start + k) {
      path.push(subtreeRoot(leafHashes, start + k, end, scratch));
      end = start + k;
    } else {
      path.push(subtreeRoot(leafHashes, start, start + k, scratch));
      start += k;
    }
  }
  return path.reverse();
}

/** Inputs of {@link verifyInclusion}: an RFC 9162 §2.1.3 inclusion proof and the root it should reach. */
export interface InclusionCheck {
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly leafHash: Uint8Array;
  readonly auditPath: readonly Uint8Array[];
  readonly root: Uint8Array;
}

/**
 * RFC 9162 §2.1.3.2: verifies an inclusion proof. False for an index outside the tree, a path of the wrong
 * length, any hash that is not 32 bytes, or a path that does not lead to `root`.
 */
export function verifyInclusion(check: InclusionCheck): boolean {
  const { leafIndex, treeSize, leafHash: hash, auditPath, root } = check;
  if (!isSize(leafIndex) || !isSize(treeSize) || leafIndex >= treeSize) return false;
  if (!isHash(hash) || !isHash(root) || !auditPath.every(isHash)) return false;
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = hash;
  for (const p of auditPath) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equalHashes(r, root);
}

/**
 * RFC 9162 §2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true): the consistency proof between the tree of the
 * first `oldSize` leaves and the tree of all `leafHashes`. Empty when oldSize is 0 or equals the tree size.
 */
export function consistencyProof(oldSize: number, leafHashes: readonly Uint8Array[]): Uint8Array[] {
  checkLeafHashes(leafHashes);
  const n = leafHashes.length;
  if (!isSize(oldSize) || oldSize > n) {
    throw badInput(`Old tree size ${oldSize} is outside 0..${n}`, { oldSize, treeSize: n });
  }
  const proof: Uint8Array[] = [];
  if (oldSize === 0 || oldSize === n) return proof;
  const scratch: Uint8Array[] = [];
  // SUBPROOF(m, D[start:end], b), unrolled; the collected hashes are emitted innermost first.
  let m = oldSize;
  let start = 0;
  let end = n;
  let haveRoot = true;
  while (m !== end - start) {
    const k = largestPowerOfTwoBelow(end - start);
    if (m <= k) {
      proof.push(subtreeRoot(leafHashes, start + k, end, scratch));
      end = start + k;
    } else {
      proof.push(subtreeRoot(leafHashes, start, start + k, scratch));
      m -= k;
      start += k;
      haveRoot = false;
    }
  }
  if (!haveRoot) proof.push(subtreeRoot(leafHashes, start, end, scratch));
  return proof.reverse();
}

/** Inputs of {@link verifyConsistency}: an RFC 9162 §2.1.4 consistency proof between two tree heads. */
export interface ConsistencyCheck {
  readonly oldSize: number;
  readonly newSize: number;
  readonly oldRoot: Uint8Array;
  readonly newRoot: Uint8Array;
  readonly proof: readonly Uint8Array[];
}

/**
 * RFC 9162 §2.1.4.2: verifies that the tree (newSize, newRoot) extends the tree (oldSize, oldRoot).
 * Edge cases outside the RFC's 0 < old < new: equal sizes need equal roots and an empty proof; old size 0
 * needs the empty-tree root and an empty proof. Any hash that is not 32 bytes fails.
 */
export function verifyConsistency(check: ConsistencyCheck): boolean {
  const { oldSize, newSize, oldRoot, newRoot, proof } = check;
  if (!isSize(oldSize) || !isSize(newSize) || oldSize > newSize) return false;
  if (!isHash(oldRoot) || !isHash(newRoot) || !proof.every(isHash)) return false;
  if (proof.length === 0) {
    const oldRootOk = oldSize > 0 || equalHashes(oldRoot, EMPTY_ROOT);
    return oldRootOk && (oldSize === newSize ? equalHashes(oldRoot, newRoot) : oldSize === 0);
  }
  if (oldSize === 0 || oldSize === newSize) return false;

  // Step 2: when old is a power of two its root is a node of the new tree and is not sent.
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : proof;
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (fn % 2 === 1) {
    fn = (fn - 1) / 2;
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = fr;
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equalHashes(fr, oldRoot) && equalHashes(sr, newRoot);
}

/** Lowercase hex of `bytes`: the form every hash takes at the API boundary. */
export function toHex(bytes: Uint8Array): string {
  return bytesToHex(bytes);
}

const LOWER_HEX = /^(?:[0-9a-f]{2})*$/;
const HASH_HEX = /^[0-9a-f]{64}$/;

/**
 * Parses lowercase, even-length hex; with `byteLength`, also requires exactly that many bytes.
 * Throws a BAD_USER_INPUT AppError otherwise (uppercase is rejected so equal hashes are equal strings).
 */
export function fromHex(hex: string, byteLength?: number): Uint8Array {
  if (typeof hex !== "string" || !LOWER_HEX.test(hex)) {
    throw badInput("Expected lowercase hexadecimal with an even number of digits");
  }
  if (byteLength !== undefined && hex.length !== byteLength * 2) {
    throw badInput(`Expected ${byteLength * 2} hex digits, got ${hex.length}`);
  }
  return hexToBytes(hex);
}

/** Parses a SHA-256 hash given as 64 lowercase hex digits (see {@link fromHex}). */
export function hashFromHex(hex: string): Uint8Array {
  return fromHex(hex, HASH_BYTES);
}

/** True when `value` is a SHA-256 hash in API form: 64 lowercase hex digits. */
export function isHashHex(value: unknown): value is string {
  return typeof value === "string" && HASH_HEX.test(value);
}

const EMPTY_ROOT = emptyRoot();

/** MTH(D[start:end]) bottom-up; `scratch` is reused working storage. */
function subtreeRoot(
  leaves: readonly Uint8Array[],
  start: number,
  end: number,
  scratch: Uint8Array[],
): Uint8Array {
  let size = end - start;
  if (size === 0) return emptyRoot();
  if (size === 1) return leaves[start]!.slice();
  // First level straight from the input, so the caller's array is never copied or written.
  let w = 0;
  for (let i = start; i + 1 < end; i += 2) scratch[w++] = nodeHash(leaves[i]!, leaves[i + 1]!);
  if (size % 2 === 1) scratch[w++] = leaves[end - 1]!;
  size = w;
  while (size > 1) {
    w = 0;
    for (let i = 0; i + 1 < size; i += 2) scratch[w++] = nodeHash(scratch[i]!, scratch[i + 1]!);
    if (size % 2 === 1) scratch[w++] = scratch[size - 1]!;
    size = w;
  }
  return scratch[0]!;
}

function checkLeafHashes(leafHashes: readonly Uint8Array[]): void {
  for (let i = 0; i < leafHashes.length; i++) {
    if (!isHash(leafHashes[i])) {
      throw new AppError(ErrorCode.Internal, `Leaf hash ${i} is not a ${HASH_BYTES}-byte hash`);
    }
  }
}

function isHash(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === HASH_BYTES;
}

function isSize(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

function isPowerOfTwo(n: number): boolean {
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
}

/** The largest power of two strictly smaller than n (n ≥ 2). */
function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function equalHashes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
