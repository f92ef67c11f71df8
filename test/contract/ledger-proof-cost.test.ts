import { afterAll, describe, expect, it } from "vitest";
import {
  createMongoProvenanceStore,
  ensureProvenanceIndexes,
} from "../../src/adapters/mongo/provenance-store.js";
import { consistencyPath, inclusionPath, nodesNeededBy } from "../../src/domain/merkle-nodes.js";
import { aLedgerEntry, leafHashOf } from "../fixtures/provenance-builders.js";
import { countCommands as measure, mongoDatabases } from "../support/mongo.js";

const mongo = await mongoDatabases("vex_ledger_cost");
afterAll(mongo.cleanup);

const TENANT = "tenant-a";
/** Entries of the short and the long ledger. */
const SHORT = 40;
const LONG = 1_000;

/** The nodes of an inclusion proof of `index`, a consistency proof from `firstSize`, and the root, at `size`. */
const proofKeys = (index: number, firstSize: number, size: number) =>
  nodesNeededBy((rangeRoot) => {
    inclusionPath(index, size, rangeRoot);
    consistencyPath(firstSize, size, rangeRoot);
    rangeRoot(0, size);
  });

/** At most this many nodes for proofs at `size`: three paths of ⌈log2(size + 1)⌉ levels. */
const nodeBound = (size: number) => 3 * Math.ceil(Math.log2(size + 1));

/** A ledger of `size` entries, each followed by its own inclusion proof and root (as a run's is). */
const ledgerOf = async (size: number) => {
  const { client, dbName, db } = await mongo.create();
  await ensureProvenanceIndexes(db);
  const store = createMongoProvenanceStore({ client, dbName });
  for (let i = 0; i < size; i++) {
    const entry = aLedgerEntry();
    await store.ledger.append(TENANT, entry, leafHashOf(entry));
    await store.ledger.nodes(
      TENANT,
      nodesNeededBy((rangeRoot) => {
        inclusionPath(i, i + 1, rangeRoot);
        rangeRoot(0, i + 1);
      }),
    );
  }
  return { client, store };
};

describe("ledger proofs read O(log n) stored nodes (MongoDB)", () => {
  it("inclusion and consistency proofs at 40 and at 1,000 entries", { timeout: 300_000 }, async () => {
    const costs: { size: number; keys: number; commands: number; documents: number }[] = [];
    for (const size of [SHORT, LONG]) {
      const { client, store } = await ledgerOf(size);
      const keys = proofKeys(Math.floor(size / 3), Math.floor(size / 2), size);
      const hashes: string[] = [];
      const cost = await measure(client, async () =>
        hashes.push(...(await store.ledger.nodes(TENANT, keys))),
      );
      expect(hashes).toHaveLength(keys.length);
      costs.push({ size, keys: keys.length, ...cost });
    }
    console.info("ledger proof reads", JSON.stringify(costs));
    for (const { size, keys, commands, documents } of costs) {
      expect(keys).toBeLessThanOrEqual(nodeBound(size));
      // One lookup per node, every node already kept: nothing recomputed from the leaves.
      expect(commands).toBe(keys);
      expect(documents).toBe(keys);
    }
  });
});
