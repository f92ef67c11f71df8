import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { hashFromHex, merkleRootFromLeafHashes, toHex } from "../../src/domain/merkle.js";
import type { ProvenanceStore } from "../../src/ports/provenance-store.js";
import {
  aCheckpoint,
  aLedgerEntry,
  aReceipt,
  aSigningKey,
  leafHashOf,
} from "../fixtures/provenance-builders.js";
import { expectAppError } from "../support/assertions.js";

/** How a contract run gets a fresh, empty provenance store for each test and disposes of it. */
export interface ProvenanceStoreContractInit {
  readonly name: string;
  /** A new, empty store; called before every test. */
  create(): Promise<ProvenanceStore>;
  /** Disposes of a store made by `create`. @default store.close() */
  destroy?(store: ProvenanceStore): Promise<void>;
}

const A = "tenant-a";
const B = "tenant-b";
/** Appends raced against each other in one test. */
const CONCURRENT_APPENDS = 12;

/** The ProvenanceStore contract: every adapter must pass it unchanged. */
export const provenanceStoreContract = (init: ProvenanceStoreContractInit): void => {
  describe(`ProvenanceStore contract: ${init.name}`, () => {
    let store: ProvenanceStore;
    beforeEach(async () => {
      store = await init.create();
    });
    afterEach(async () => {
      await (init.destroy ? init.destroy(store) : store.close());
    });

    describe("ledger", () => {
      it("appends at 0, 1, 2 … per tenant and reads entries back exactly", async () => {
        const entries = [aLedgerEntry(), aLedgerEntry(), aLedgerEntry()];
        const records = [];
        for (const e of entries) records.push(await store.ledger.append(A, e, leafHashOf(e)));
        expect(records.map((r) => r.index)).toStrictEqual([0, 1, 2]);
        const other = aLedgerEntry();
        expect((await store.ledger.append(B, other, leafHashOf(other))).index).toBe(0);
        expect(await store.ledger.size(A)).toBe(3);
        expect(await store.ledger.size(B)).toBe(1);
        expect(await store.ledger.size("tenant-none")).toBe(0);
        expect(await store.ledger.leafHashes(A, 3)).toStrictEqual(entries.map(leafHashOf));
        expect(await store.ledger.leafHashes(A, 2)).toStrictEqual(entries.slice(0, 2).map(leafHashOf));
        expect(await store.ledger.leafHashes(A, 0)).toStrictEqual([]);
        expect(await store.ledger.leafHashes(A, 3, 1)).toStrictEqual(entries.slice(1).map(leafHashOf));
        expect(await store.ledger.leafHashes(A, 3, 3)).toStrictEqual([]);
        await expectAppError(store.ledger.leafHashes(A, 4, 2), "NOT_FOUND");
        expect(await store.ledger.findByRun(A, entries[1]!.runId)).toStrictEqual({
          tenantId: A,
          index: 1,
          entry: entries[1],
          leafHash: leafHashOf(entries[1]!),
        });
      });

      it("gives concurrent appends distinct, gap-free indexes", async () => {
        const entries = Array.from({ length: CONCURRENT_APPENDS }, () => aLedgerEntry());
        const records = await Promise.all(entries.map((e) => store.ledger.append(A, e, leafHashOf(e))));
        expect(records.map((r) => r.index).sort((x, y) => x - y)).toStrictEqual(entries.map((_, i) => i));
        const hashes = await store.ledger.leafHashes(A, CONCURRENT_APPENDS);
        for (const r of records) expect(hashes[r.index]).toBe(r.leafHash);
      });

      it("serves the roots of perfect subtrees, computed once, within the tenant", async () => {
        const entries = Array.from({ length: 13 }, () => aLedgerEntry());
        for (const e of entries) await store.ledger.append(A, e, leafHashOf(e));
        const leaves = entries.map((e) => hashFromHex(leafHashOf(e)));
        const rootOf = (level: number, index: number) =>
          toHex(merkleRootFromLeafHashes(leaves.slice(index * 2 ** level, (index + 1) * 2 ** level)));
        const keys = [
          { level: 0, index: 5 },
          { level: 2, index: 1 },
          { level: 3, index: 0 },
          { level: 1, index: 5 },
        ];
        const expected = keys.map((k) => rootOf(k.level, k.index));
        expect(await store.ledger.nodes(A, keys)).toStrictEqual(expected);
        // Kept now: the same answer again, and for the nodes computed on the way.
        expect(await store.ledger.nodes(A, keys)).toStrictEqual(expected);
        expect(await store.ledger.nodes(A, [{ level: 1, index: 0 }])).toStrictEqual([rootOf(1, 0)]);
        // Leaves 12…15: the ledger holds only 12; another tenant's ledger is empty.
        await expectAppError(store.ledger.nodes(A, [{ level: 2, index: 3 }]), "NOT_FOUND");
        await expectAppError(store.ledger.nodes(B, [{ level: 0, index: 0 }]), "NOT_FOUND");
        await expectAppError(store.ledger.nodes(B, [{ level: 1, index: 0 }]), "NOT_FOUND");
      });

      it("rejects reading more leaves than the ledger holds with NOT_FOUND", async () => {
        const e = aLedgerEntry();
        await store.ledger.append(A, e, leafHashOf(e));
        await expectAppError(store.ledger.leafHashes(A, 2), "NOT_FOUND");
        await expectAppError(store.ledger.leafHashes(B, 1), "NOT_FOUND");
      });

      it("never shows one tenant's entries to another", async () => {
        const e = aLedgerEntry();
        await store.ledger.append(A, e, leafHashOf(e));
        expect(await store.ledger.findByRun(B, e.runId)).toBeNull();
        expect(await store.ledger.findByRun(A, "run-missing")).toBeNull();
      });
    });

    describe("checkpoints", () => {
      it("stores one checkpoint per size and finds the latest", async () => {
        const c1 = aCheckpoint({ treeSize: 1 });
        const c3 = aCheckpoint({ treeSize: 3 });
        const c2 = aCheckpoint({ treeSize: 2 });
        for (const c of [c1, c3, c2]) await store.checkpoints.put(c);
        expect(await store.checkpoints.get(A, 2)).toStrictEqual(c2);
        expect(await store.checkpoints.latest(A)).toStrictEqual(c3);
        expect(await store.checkpoints.get(A, 4)).toBeNull();
      });

      it("accepts the same checkpoint twice and rejects a different one for a size with CONFLICT", async () => {
        const c = aCheckpoint({ treeSize: 5 });
        await store.checkpoints.put(c);
        await store.checkpoints.put(c);
        await expectAppError(store.checkpoints.put({ ...c, note: `${c.note}x` }), "CONFLICT");
        expect(await store.checkpoints.get(A, 5)).toStrictEqual(c);
      });

      it("keeps tenants apart", async () => {
        await store.checkpoints.put(aCheckpoint({ tenantId: A, treeSize: 1 }));
        expect(await store.checkpoints.get(B, 1)).toBeNull();
        expect(await store.checkpoints.latest(B)).toBeNull();
        const b = aCheckpoint({ tenantId: B, treeSize: 1 });
        await store.checkpoints.put(b);
        expect(await store.checkpoints.get(B, 1)).toStrictEqual(b);
      });
    });

    describe("receipts", () => {
      it("lists a run's receipts in anchoring order; a repeated add is a no-op", async () => {
        const r1 = aReceipt({ backend: "file", anchoredAt: "2026-01-01T00:00:00.000Z" });
        const r2 = aReceipt({ backend: "mongo", anchoredAt: "2026-01-01T00:00:00.001Z" });
        await store.receipts.add(A, "run-1", r2);
        await store.receipts.add(A, "run-1", r1);
        await store.receipts.add(A, "run-1", r1);
        await store.receipts.add(A, "run-2", aReceipt());
        expect(await store.receipts.listByRun(A, "run-1")).toStrictEqual([r1, r2]);
        expect(await store.receipts.listByRun(B, "run-1")).toStrictEqual([]);
      });
    });

    describe("signing key", () => {
      it("stores the first candidate and returns it to every later caller", async () => {
        const first = aSigningKey();
        expect(await store.signingKey.getOrCreate(first)).toStrictEqual(first);
        const second = aSigningKey({ seed: Buffer.alloc(32, 9).toString("base64") });
        expect(await store.signingKey.getOrCreate(second)).toStrictEqual(first);
      });

      it("makes concurrent first starts agree on one key", async () => {
        const candidates = [1, 2, 3, 4].map((n) =>
          aSigningKey({ seed: Buffer.alloc(32, n).toString("base64") }),
        );
        const got = await Promise.all(candidates.map((c) => store.signingKey.getOrCreate(c)));
        expect(new Set(got.map((k) => k.seed)).size).toBe(1);
      });
    });
  });
};
