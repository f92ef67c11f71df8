import { existsSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  createFileAnchor,
  FILE_ANCHOR_NAME,
  FILE_ANCHOR_READ_CHUNK_BYTES,
} from "../../src/adapters/anchor/file-anchor.js";
import { ANCHOR_INDEX_ENTRY_BYTES } from "../../src/adapters/anchor/file-anchor-index.js";
import {
  createMongoAnchor,
  DEFAULT_ANCHOR_CHECKPOINT_COLLECTION,
  DEFAULT_ANCHOR_COLLECTION,
  MONGO_ANCHOR_NAME,
} from "../../src/adapters/anchor/mongo-anchor.js";
import {
  type AnchorReceipt,
  anchorRecordHash,
  anchorRecordLine,
  checkpointSeqAtOrBefore,
  DEFAULT_ANCHOR_CHECKPOINT_INTERVAL,
  nextAnchorRecord,
} from "../../src/domain/anchor.js";
import type { AnchorBackend } from "../../src/ports/anchor.js";
import { anAnchorEntry } from "../fixtures/provenance-builders.js";
import { withDataDir } from "../support/data-dirs.js";
import { countCommands as measure, mongoDatabases } from "../support/mongo.js";
import { steppingClock } from "../support/orchestrator.js";

const INTERVAL = DEFAULT_ANCHOR_CHECKPOINT_INTERVAL;
/** Records of the short chain, all appended by the backend: one checkpoint and a bit. */
const SHORT = INTERVAL + 8;
/** Records of the long chain. */
const LONG = 2_000;
/** The last records of every chain are appended by the backend (the rest, written as a server without
 * checkpoints wrote them): the checkpoint of the verified receipt is then the append path's own. */
const APPENDED = SHORT;
/** The verified receipt's place after its checkpoint: the same on both chains. */
const PLACE_IN_INTERVAL = SHORT - 1 - INTERVAL;
/** Commands one verification may send to MongoDB: the checkpoint and the records after it. */
const MAX_VERIFY_COMMANDS = 2;
/** Bytes of reads a verification may see beside its own (the read of /proc/self/io itself). */
const OTHER_READ_BYTES = 4 * 1024;

const mongo = await mongoDatabases("vex_anchor_cost");
afterAll(mongo.cleanup);

const receiptSeq = (length: number) => checkpointSeqAtOrBefore(length - 1) + PLACE_IN_INTERVAL;

/** Receipts of a chain as a server without checkpoints wrote it: the records and nothing else. */
const writtenBefore = (length: number, backend: string): AnchorReceipt[] => {
  const clock = steppingClock();
  const receipts: AnchorReceipt[] = [];
  let previous: { seq: number; hash: string } | null = null;
  for (let i = 0; i < length; i++) {
    const record = nextAnchorRecord(previous, anAnchorEntry({ treeSize: i + 1 }), clock.now());
    const recordHash = anchorRecordHash(record);
    receipts.push({ ...record, backend, anchorId: `chain#${i}`, recordHash });
    previous = { seq: i, hash: recordHash };
  }
  return receipts;
};

const appendTo = async (backend: AnchorBackend, count: number): Promise<AnchorReceipt[]> => {
  const receipts: AnchorReceipt[] = [];
  for (let i = 0; i < count; i++) receipts.push(await backend.anchor(anAnchorEntry()));
  return receipts;
};

describe("anchor verification reads one checkpoint interval, however long the chain", () => {
  describe("file", () => {
    /** Bytes this process has read through read(2) and friends so far (Linux). */
    const bytesRead = () => Number(/^rchar: (\d+)$/m.exec(readFileSync("/proc/self/io", "utf8"))![1]);
    const measure = async (work: () => Promise<unknown>) => {
      const before = bytesRead();
      await work();
      return bytesRead() - before;
    };
    /** Repeats for a bound: the counter is the whole process's (the test runner's own pipes too), so
     * other reads can only add to a verification's; the least of a few repeats is its own. */
    const REPEATS = 3;
    const leastOf = async (work: () => Promise<unknown>) => {
      const costs: number[] = [];
      for (let i = 0; i < REPEATS; i++) costs.push(await measure(work));
      return Math.min(...costs);
    };
    /** Bytes read by one verification of `receipt` on a backend opened for it (nothing cached). */
    const verifyOnce = (path: string, receipt: AnchorReceipt) => async () => {
      const backend = createFileAnchor({ path, clock: steppingClock() });
      try {
        expect(await backend.verify(receipt)).toMatchObject({ valid: true });
      } finally {
        await backend.close();
      }
    };

    /** A chain of `length` records in a fresh file; returns the receipt at `receiptSeq(length)`. */
    const chainOf = async (dir: string, length: number) => {
      await mkdir(dir, { recursive: true });
      const path = join(dir, "anchors.jsonl");
      const before = writtenBefore(length - APPENDED, FILE_ANCHOR_NAME);
      await writeFile(path, before.map((r) => `${anchorRecordLine(r)}\n`).join(""));
      const writer = createFileAnchor({ path, clock: steppingClock(Date.UTC(2027, 0, 1)) });
      const receipts = [...before, ...(await appendTo(writer, APPENDED))];
      await writer.close();
      const lineBytes = Math.max(...receipts.map((r) => Buffer.byteLength(anchorRecordLine(r)) + 1));
      return { path, receipts, receipt: receipts[receiptSeq(length)]!, lineBytes };
    };

    it.runIf(existsSync("/proc/self/io"))(
      "at most one interval of lines (and one read chunk) at 40 and at 2,000 records",
      { timeout: 120_000 },
      async () => {
        await withDataDir(async (dir) => {
          const short = await chainOf(join(dir, "short"), SHORT);
          const long = await chainOf(join(dir, "long"), LONG);
          const costs: number[] = [];
          for (const chain of [short, long]) costs.push(await leastOf(verifyOnce(chain.path, chain.receipt)));
          const bound =
            INTERVAL * long.lineBytes +
            FILE_ANCHOR_READ_CHUNK_BYTES +
            ANCHOR_INDEX_ENTRY_BYTES +
            OTHER_READ_BYTES;
          console.info("file anchor bytes read per verification", costs, "bound", bound);
          // Both read from their last checkpoint to the receipt (a chunk at a time), not the file.
          for (const cost of costs) expect(cost).toBeLessThanOrEqual(bound);
          expect(bound).toBeLessThan((LONG * long.lineBytes) / 10);
        });
      },
    );

    it.runIf(existsSync("/proc/self/io"))(
      "a chain written before checkpoints verifies, reading it whole once, then one interval",
      { timeout: 120_000 },
      async () => {
        await withDataDir(async (dir) => {
          const path = join(dir, "anchors.jsonl");
          const receipts = writtenBefore(LONG, FILE_ANCHOR_NAME);
          await writeFile(path, receipts.map((r) => `${anchorRecordLine(r)}\n`).join(""));
          const late = receipts[receiptSeq(LONG)]!;
          const lineBytes = Buffer.byteLength(anchorRecordLine(late)) + 1;
          const backend = createFileAnchor({ path, clock: steppingClock() });
          const first = await measure(async () =>
            expect(await backend.verify(late)).toMatchObject({ valid: true }),
          );
          await backend.close(); // waits for the index the first verification had rewritten
          const second = await leastOf(verifyOnce(path, late));
          console.info("file anchor bytes read before and after indexing", first, second);
          expect(first).toBeGreaterThan(receiptSeq(LONG) * lineBytes);
          expect(second).toBeLessThanOrEqual(
            INTERVAL * lineBytes + FILE_ANCHOR_READ_CHUNK_BYTES + ANCHOR_INDEX_ENTRY_BYTES + OTHER_READ_BYTES,
          );
        });
      },
    );
  });

  describe("MongoDB", () => {
    /** A chain of `length` records in a fresh database: the first ones as stored before checkpoints. */
    const chainOf = async (length: number) => {
      const { client, dbName, db } = await mongo.create();
      const before = writtenBefore(length - APPENDED, MONGO_ANCHOR_NAME);
      if (before.length > 0) {
        await db.collection(DEFAULT_ANCHOR_COLLECTION).insertMany(
          before.map(({ seq, prevHash, anchoredAt, entry, recordHash }) => ({
            _id: seq as never,
            seq,
            prevHash,
            anchoredAt,
            entry,
            hash: recordHash,
          })),
        );
      }
      const writer = createMongoAnchor({ client, dbName, clock: steppingClock(Date.UTC(2027, 0, 1)) });
      const receipts = [...before, ...(await appendTo(writer, APPENDED))];
      return { client, dbName, db, receipts, receipt: receipts[receiptSeq(length)]! };
    };

    it("the same round trips and documents at 40 and at 2,000 records", { timeout: 300_000 }, async () => {
      const costs = [];
      for (const length of [SHORT, LONG]) {
        const { client, dbName, receipt } = await chainOf(length);
        const backend = createMongoAnchor({ client, dbName, clock: steppingClock() });
        costs.push(
          await measure(client, async () => expect((await backend.verify(receipt)).valid).toBe(true)),
        );
      }
      console.info("mongo anchor cost per verification", JSON.stringify(costs));
      expect(costs[1]).toStrictEqual(costs[0]);
      expect(costs[1]!.commands).toBeLessThanOrEqual(MAX_VERIFY_COMMANDS);
      expect(costs[1]!.documents).toBeLessThanOrEqual(INTERVAL + 1);
    });

    it("a chain written before checkpoints verifies, reading it whole once, then one interval", {
      timeout: 300_000,
    }, async () => {
      const { client, dbName, db, receipts } = await chainOf(LONG);
      const backend = createMongoAnchor({ client, dbName, clock: steppingClock() });
      const old = receipts[LONG - APPENDED - 1]!;
      const first = await measure(client, async () => expect((await backend.verify(old)).valid).toBe(true));
      const second = await measure(client, async () => expect((await backend.verify(old)).valid).toBe(true));
      console.info("mongo anchor cost before and after checkpointing", JSON.stringify([first, second]));
      expect(first.documents).toBeGreaterThan(old.seq);
      expect(second.commands).toBeLessThanOrEqual(MAX_VERIFY_COMMANDS);
      expect(second.documents).toBeLessThanOrEqual(INTERVAL + 1);
      expect(await db.collection(DEFAULT_ANCHOR_CHECKPOINT_COLLECTION).countDocuments()).toBe(
        Math.floor(LONG / INTERVAL),
      );
    });
  });
});
