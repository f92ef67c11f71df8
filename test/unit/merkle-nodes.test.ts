import { describe, expect, it } from "vitest";
import {
  consistencyProof,
  inclusionProof,
  leafHash,
  merkleRootFromLeafHashes,
} from "../../src/domain/merkle.js";
import {
  consistencyPath,
  inclusionPath,
  type NodeKey,
  nodeKeyId,
  nodesNeededBy,
  rangeRootFrom,
} from "../../src/domain/merkle-nodes.js";

const leavesOf = (n: number) => Array.from({ length: n }, (_, i) => leafHash(Uint8Array.of(i, i >> 8)));

/** Exactly the nodes asked for, computed from the leaves: a read of anything else fails. */
const readOnly = (leaves: readonly Uint8Array[], keys: readonly NodeKey[]) =>
  rangeRootFrom(
    new Map(
      keys.map((k) => [
        nodeKeyId(k),
        merkleRootFromLeafHashes(leaves.slice(k.index * 2 ** k.level, (k.index + 1) * 2 ** k.level)),
      ]),
    ),
  );

describe("proofs from stored perfect-subtree roots", () => {
  it("equal the proofs from all leaves, for every index and size up to 40, reading O(log n) nodes", () => {
    for (let n = 1; n <= 40; n++) {
      const leaves = leavesOf(n);
      for (let i = 0; i < n; i++) {
        const keys = nodesNeededBy((r) => {
          inclusionPath(i, n, r);
          r(0, n);
        });
        expect(keys.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(n + 1)) + 1);
        const rangeRoot = readOnly(leaves, keys);
        expect(inclusionPath(i, n, rangeRoot)).toStrictEqual(inclusionProof(i, leaves));
        expect(rangeRoot(0, n)).toStrictEqual(merkleRootFromLeafHashes(leaves));
      }
      for (let m = 0; m <= n; m++) {
        const keys = nodesNeededBy((r) => {
          consistencyPath(m, n, r);
          r(0, m);
        });
        expect(consistencyPath(m, n, readOnly(leaves, keys))).toStrictEqual(consistencyProof(m, leaves));
      }
    }
  });

  it("reads a logarithmic number of nodes in a ledger of a million entries", () => {
    const keys = nodesNeededBy((r) => {
      inclusionPath(123_457, 1_000_003, r);
      consistencyPath(999_999, 1_000_003, r);
      r(0, 1_000_003);
    });
    expect(keys.length).toBeLessThanOrEqual(3 * 21);
  });
});
