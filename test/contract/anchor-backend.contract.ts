import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type AnchorReceipt,
  anchorRecordHash,
  DEFAULT_ANCHOR_CHECKPOINT_INTERVAL,
  GENESIS_PREV_HASH,
} from "../../src/domain/anchor.js";
import type { AnchorBackend } from "../../src/ports/anchor.js";
import { anAnchorEntry } from "../fixtures/provenance-builders.js";

/** How a contract run gets a fresh, empty anchor backend, reopens it and tampers with its records. */
export interface AnchorBackendContractInit<B extends AnchorBackend = AnchorBackend> {
  readonly name: string;
  /** A backend over a new, empty chain. */
  create(): Promise<B>;
  /** A second backend over the same chain (what a restart gives). */
  reopen(backend: B): Promise<AnchorBackend>;
  /** Changes the stored record at `seq` the way an attacker with write access would. */
  tamper(backend: B, seq: number, change: "entry" | "delete"): Promise<void>;
  /** Removes every stored checkpoint: a chain written before checkpoints existed, or a lost index. */
  dropCheckpoints(backend: B): Promise<void>;
  /** Gives every stored checkpoint a wrong hash, leaving it well-formed. */
  corruptCheckpoints(backend: B): Promise<void>;
  destroy?(backend: B): Promise<void>;
}

/** Anchors appended concurrently in one test. */
const CONCURRENT_ANCHORS = 8;
const INTERVAL = DEFAULT_ANCHOR_CHECKPOINT_INTERVAL;
/** A chain of two checkpoints and part of a third interval. */
const PAST_TWO_CHECKPOINTS = 2 * INTERVAL + 6;
/** The changed record in the checkpoint tests: inside the second interval, not at its start. */
const CHANGED_SEQ = INTERVAL + 8;

/** The AnchorBackend contract: receipts re-verify by recomputation, tampering is detected. */
export const anchorBackendContract = <B extends AnchorBackend>(init: AnchorBackendContractInit<B>): void => {
  describe(`AnchorBackend contract: ${init.name}`, () => {
    let backend: B;
    beforeEach(async () => {
      backend = await init.create();
    });
    afterEach(async () => {
      await (init.destroy ? init.destroy(backend) : backend.close());
    });

    const anchorMany = async (n: number): Promise<AnchorReceipt[]> => {
      const receipts: AnchorReceipt[] = [];
      for (let i = 0; i < n; i++) receipts.push(await backend.anchor(anAnchorEntry({ treeSize: i + 1 })));
      return receipts;
    };

    it("returns receipts that chain from the genesis hash and recompute", async () => {
      const entry = anAnchorEntry();
      const [first, second] = [await backend.anchor(entry), await backend.anchor(anAnchorEntry())];
      expect(first).toMatchObject({ backend: backend.name, seq: 0, prevHash: GENESIS_PREV_HASH, entry });
      expect(first?.recordHash).toBe(anchorRecordHash(first!));
      expect(second).toMatchObject({ seq: 1, prevHash: first?.recordHash });
      expect(await backend.verify(first!)).toStrictEqual({ valid: true, reason: null });
      expect(await backend.verify(second!)).toStrictEqual({ valid: true, reason: null });
    });

    it("orders concurrent anchors into one unbroken chain", async () => {
      const receipts = await Promise.all(
        Array.from({ length: CONCURRENT_ANCHORS }, () => backend.anchor(anAnchorEntry())),
      );
      expect(receipts.map((r) => r.seq).sort((a, b) => a - b)).toStrictEqual(receipts.map((_, i) => i));
      for (const r of receipts) expect((await backend.verify(r)).valid).toBe(true);
    });

    it("continues the same chain after a restart", async () => {
      const [first] = await anchorMany(1);
      const again = await init.reopen(backend);
      try {
        const next = await again.anchor(anAnchorEntry());
        expect(next).toMatchObject({ seq: 1, prevHash: first?.recordHash });
        expect((await again.verify(first!)).valid).toBe(true);
      } finally {
        await again.close();
      }
    });

    it("rejects forged receipts: changed fields, a recomputed hash that is not in the chain, another backend", async () => {
      const [receipt] = await anchorMany(1);
      const r = receipt!;
      const changed = { ...r, entry: { ...r.entry, treeSize: r.entry.treeSize + 1 } };
      expect(await backend.verify(changed)).toMatchObject({ valid: false });
      expect(await backend.verify({ ...changed, recordHash: anchorRecordHash(changed) })).toMatchObject({
        valid: false,
      });
      expect(await backend.verify({ ...r, seq: 5, anchorId: "x" })).toMatchObject({ valid: false });
      expect(await backend.verify({ ...r, backend: "elsewhere" })).toMatchObject({ valid: false });
    });

    it("detects a changed record: its receipt and every later one fail, earlier ones still verify", async () => {
      const receipts = await anchorMany(4);
      await init.tamper(backend, 1, "entry");
      const results = await Promise.all(receipts.map((r) => backend.verify(r)));
      expect(results.map((v) => v.valid)).toStrictEqual([true, false, false, false]);
      expect(results[2]?.reason).toMatch(/./);
    });

    it("detects a deleted record", async () => {
      const receipts = await anchorMany(3);
      await init.tamper(backend, 1, "delete");
      expect((await backend.verify(receipts[0]!)).valid).toBe(true);
      expect((await backend.verify(receipts[2]!)).valid).toBe(false);
    });

    const validity = async (receipts: readonly AnchorReceipt[]) => {
      const results: boolean[] = [];
      for (const r of receipts) results.push((await backend.verify(r)).valid);
      return results;
    };

    it("detects a changed record past a checkpoint: its receipt and the later ones of its interval fail", async () => {
      const receipts = await anchorMany(PAST_TWO_CHECKPOINTS);
      expect(await validity(receipts)).toStrictEqual(receipts.map(() => true));
      await init.tamper(backend, CHANGED_SEQ, "entry");
      // A receipt is checked from the checkpoint at or before it: whether the next interval's receipts
      // still pass is not asserted (their checkpoint was written while the changed record was intact).
      const throughInterval = receipts.slice(0, 2 * INTERVAL);
      expect(await validity(throughInterval)).toStrictEqual(throughInterval.map((r) => r.seq < CHANGED_SEQ));
    });

    it("verifies every receipt once its checkpoints are lost, and still detects a changed record", async () => {
      const receipts = await anchorMany(PAST_TWO_CHECKPOINTS);
      await init.dropCheckpoints(backend);
      expect(await validity(receipts)).toStrictEqual(receipts.map(() => true));
      await init.dropCheckpoints(backend);
      await init.tamper(backend, CHANGED_SEQ, "entry");
      expect(await validity(receipts)).toStrictEqual(receipts.map((r) => r.seq < CHANGED_SEQ));
    });

    it("verifies every receipt when its checkpoints are wrong, and still detects a changed record", async () => {
      const receipts = await anchorMany(PAST_TWO_CHECKPOINTS);
      await init.corruptCheckpoints(backend);
      expect(await validity(receipts)).toStrictEqual(receipts.map(() => true));
      await init.corruptCheckpoints(backend);
      await init.tamper(backend, CHANGED_SEQ, "delete");
      expect(await validity(receipts)).toStrictEqual(receipts.map((r) => r.seq < CHANGED_SEQ));
    });
  });
};
