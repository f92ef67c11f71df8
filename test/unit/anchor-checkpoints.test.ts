import { describe, expect, it } from "vitest";
import {
  ANCHOR_INDEX_ENTRY_BYTES,
  formatIndexEntry,
  parseIndexEntry,
} from "../../src/adapters/anchor/file-anchor-index.js";
import {
  type AnchorReceipt,
  type AnchorRecord,
  anchorRecordHash,
  checkpointSeqAtOrBefore,
  DEFAULT_ANCHOR_CHECKPOINT_INTERVAL,
  GENESIS_START,
  isCheckpointSeq,
  nextAnchorRecord,
  verifyAnchorChain,
  verifyReceiptInChain,
} from "../../src/domain/anchor.js";
import { anAnchorEntry } from "../fixtures/provenance-builders.js";
import { steppingClock } from "../support/orchestrator.js";

const INTERVAL = DEFAULT_ANCHOR_CHECKPOINT_INTERVAL;

const chainOf = (length: number): { records: AnchorRecord[]; receipts: AnchorReceipt[] } => {
  const clock = steppingClock();
  const records: AnchorRecord[] = [];
  let previous: { seq: number; hash: string } | null = null;
  for (let i = 0; i < length; i++) {
    const record = nextAnchorRecord(previous, anAnchorEntry(), clock.now());
    records.push(record);
    previous = { seq: i, hash: anchorRecordHash(record) };
  }
  const receipts = records.map((r) => ({
    ...r,
    backend: "file",
    anchorId: `x#${r.seq}`,
    recordHash: anchorRecordHash(r),
  }));
  return { records, receipts };
};

describe("anchor checkpoints", () => {
  it("fall every interval: the checkpoint at or before a seq, and which counts are checkpoints", () => {
    expect(
      [0, INTERVAL - 1, INTERVAL, 2 * INTERVAL + 5].map((s) => checkpointSeqAtOrBefore(s)),
    ).toStrictEqual([0, 0, INTERVAL, 2 * INTERVAL]);
    expect([0, 1, INTERVAL, INTERVAL + 1, 3 * INTERVAL].map((c) => isCheckpointSeq(c))).toStrictEqual([
      false,
      false,
      true,
      false,
      true,
    ]);
  });

  it("a stretch recomputes from its checkpoint exactly as the chain from seq 0 does", () => {
    const { records, receipts } = chainOf(2 * INTERVAL + 3);
    const whole = verifyAnchorChain(records);
    const start = { seq: INTERVAL, prevHash: whole.hashes[INTERVAL - 1]! };
    const stretch = verifyAnchorChain(records.slice(INTERVAL), undefined, start);
    expect(stretch.valid).toBe(true);
    expect(stretch.hashes).toStrictEqual(whole.hashes.slice(INTERVAL));
    const late = receipts.at(-1)!;
    expect(verifyReceiptInChain(late, records.slice(INTERVAL), undefined, start)).toStrictEqual({
      valid: true,
      reason: null,
    });
    expect(verifyReceiptInChain(late, records, undefined, GENESIS_START).valid).toBe(true);
  });

  it("a stretch fails from a wrong checkpoint, at a wrong place, or before its start", () => {
    const { records, receipts } = chainOf(INTERVAL + 3);
    const whole = verifyAnchorChain(records);
    const late = receipts.at(-1)!;
    const wrong = { seq: INTERVAL, prevHash: "f".repeat(64) };
    expect(verifyReceiptInChain(late, records.slice(INTERVAL), undefined, wrong)).toMatchObject({
      valid: false,
      reason: `chain broken at record ${INTERVAL}: prevHash mismatch`,
    });
    const shifted = { seq: INTERVAL + 1, prevHash: whole.hashes[INTERVAL - 1]! };
    expect(verifyReceiptInChain(late, records.slice(INTERVAL), undefined, shifted)).toMatchObject({
      valid: false,
    });
    const right = { seq: INTERVAL, prevHash: whole.hashes[INTERVAL - 1]! };
    expect(verifyReceiptInChain(receipts[0]!, records.slice(INTERVAL), undefined, right)).toMatchObject({
      valid: false,
    });
  });
});

describe("the file anchor's index entries", () => {
  it("are fixed-width lines that parse back", () => {
    const checkpoint = { seq: 64, offset: 21_345, prevHash: "ab".repeat(32) };
    const line = formatIndexEntry(checkpoint);
    expect(Buffer.byteLength(line)).toBe(ANCHOR_INDEX_ENTRY_BYTES);
    expect(parseIndexEntry(line)).toStrictEqual(checkpoint);
  });

  it("reject anything but a whole, well-formed entry", () => {
    const line = formatIndexEntry({ seq: 32, offset: 10, prevHash: "cd".repeat(32) });
    for (const bad of [
      line.slice(0, -1),
      line.slice(1),
      line.replace("c", "C"),
      "\0".repeat(line.length),
      "",
    ]) {
      expect(parseIndexEntry(bad)).toBeNull();
    }
  });
});
