import { writeSync } from "node:fs";
import { type FileHandle, mkdir, open, readFile, truncate } from "node:fs/promises";
import { basename, dirname } from "node:path";
import {
  type AnchorReceipt,
  type AnchorRecord,
  type AnchorVerification,
  anchorRecordLine,
  checkpointSeqAtOrBefore,
  GENESIS_START,
  invalid,
  isCheckpointSeq,
  nextAnchorRecord,
  parseAnchorLine,
  verifyAnchorChain,
  verifyReceiptFields,
  verifyReceiptInChain,
} from "../../domain/anchor.js";
import { sha256Hex } from "../../domain/canonical.js";
import { AppError, ErrorCode } from "../../domain/errors.js";
import type { AnchorBackend } from "../../ports/anchor.js";
import type { Clock } from "../../ports/clock.js";
import {
  anchorIndexPath,
  type FileAnchorCheckpoint,
  readIndexEntry,
  rewriteIndex,
  writeIndexEntry,
} from "./file-anchor-index.js";

/** Name of the file backend in receipts. */
export const FILE_ANCHOR_NAME = "file";

/** Options of {@link createFileAnchor}. */
export interface FileAnchorOptions {
  /** The JSONL file; created (with its folder) on the first anchor. */
  readonly path: string;
  readonly clock: Clock;
}

interface Tail {
  readonly seq: number;
  readonly hash: string;
  /** Bytes of the file's complete lines: where the next record's line starts. */
  readonly size: number;
}

/** Bytes read at a time when reading records from a place in the file. @default 16 KiB */
export const FILE_ANCHOR_READ_CHUNK_BYTES = 16 * 1024;
const NEWLINE = 0x0a;

/** Where every chain starts: record 0 at byte 0. */
const FILE_GENESIS: FileAnchorCheckpoint = { ...GENESIS_START, offset: 0 };

/** The file's complete lines; a last line without its newline is a torn write and is left out. */
const readLines = async (path: string): Promise<{ lines: string[]; tornBytes: number } | null> => {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
  const end = text.lastIndexOf("\n") + 1;
  const complete = text.slice(0, end);
  return {
    lines: complete.length === 0 ? [] : complete.slice(0, -1).split("\n"),
    tornBytes: Buffer.byteLength(text.slice(end)),
  };
};

/**
 * Up to `count` complete lines from byte `offset` on, read a chunk at a time: the work is bounded by
 * the lines asked for, not by the file's length. Null when the file does not exist.
 */
const readLinesFrom = async (path: string, offset: number, count: number): Promise<string[] | null> => {
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
  try {
    const chunks: Buffer[] = [];
    let position = offset;
    for (let newlines = 0; newlines < count; ) {
      const chunk = Buffer.alloc(FILE_ANCHOR_READ_CHUNK_BYTES);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      position += bytesRead;
      for (let at = chunk.indexOf(NEWLINE); at !== -1 && at < bytesRead; at = chunk.indexOf(NEWLINE, at + 1))
        newlines++;
    }
    const text = Buffer.concat(chunks).toString("utf8");
    const complete = text.slice(0, text.lastIndexOf("\n") + 1);
    return complete.length === 0 ? [] : complete.slice(0, -1).split("\n").slice(0, count);
  } finally {
    await handle.close();
  }
};

/** Parses lines into records; `null` at the first line that is not a canonical record. */
const parseLines = (lines: readonly string[]): { records: AnchorRecord[]; bad: number | null } => {
  const records: AnchorRecord[] = [];
  for (let i = 0; i < lines.length; i++) {
    const record = parseAnchorLine(lines[i]!);
    if (record === null) return { records, bad: i };
    records.push(record);
  }
  return { records, bad: null };
};

const failure = (message: string, cause?: unknown): AppError =>
  new AppError(ErrorCode.StoreUnavailable, message, cause === undefined ? undefined : { cause });

/**
 * The file anchor: an append-only JSONL file, one record per line (RFC 8785 canonical JSON), each line
 * carrying the SHA-256 of the previous line. Every append is on disk (fdatasync) before its receipt is returned, and
 * appends are serialised in this process (one process per file). A last line without its newline was
 * never acknowledged and is truncated on start; a chain that does not recompute is never extended.
 *
 * Every `DEFAULT_ANCHOR_CHECKPOINT_INTERVAL` records the chain's state (the next record's byte
 * offset and the hash it links to) is written to the index next to the file (see file-anchor-index.ts),
 * which opening the chain rebuilds from the whole, recomputed file when it is missing or differs. A
 * receipt is verified from the checkpoint at or before its record: at most one interval of lines is
 * read and recomputed, however long the chain. When that does not pass (a missing or damaged index, or
 * a changed record), the chain from its first record decides, as it always did.
 */
export const createFileAnchor = (options: FileAnchorOptions): AnchorBackend => {
  const { path, clock } = options;
  const indexPath = anchorIndexPath(path);
  let tail: Tail | null | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  const loadTail = async (): Promise<Tail | null> => {
    const read = await readLines(path);
    if (read === null) return null;
    if (read.tornBytes > 0) {
      await truncate(path, Buffer.byteLength(read.lines.map((l) => `${l}\n`).join("")));
    }
    const { records, bad } = parseLines(read.lines);
    if (bad !== null) throw failure(`Anchor file ${path}: line ${bad + 1} is not a canonical anchor record.`);
    const chain = verifyAnchorChain(records);
    if (!chain.valid)
      throw failure(`Anchor file ${path} does not recompute (${chain.reason}); not extending it.`);
    const offsets = [0];
    for (const line of read.lines) offsets.push(offsets.at(-1)! + Buffer.byteLength(line) + 1);
    const checkpoints: FileAnchorCheckpoint[] = [];
    for (let seq = 1; seq <= records.length; seq++) {
      if (isCheckpointSeq(seq))
        checkpoints.push({ seq, offset: offsets[seq]!, prevHash: chain.hashes[seq - 1]! });
    }
    // The index is derived from the file just recomputed: a chain written before it existed, or an
    // index lost or damaged since, gets it back here. Failing to write it costs only speed.
    await rewriteIndex(indexPath, checkpoints).catch(() => undefined);
    const last = records.at(-1);
    return last === undefined ? null : { seq: last.seq, hash: chain.hashes.at(-1)!, size: offsets.at(-1)! };
  };

  /** Re-reads the chain (and so rewrites its index) before the next append. */
  const reindex = () => {
    queue = queue
      .then(async () => {
        tail = undefined;
        tail = await loadTail();
      })
      .catch(() => {
        tail = undefined;
      });
  };

  /** The receipt checked against the lines from `start` to its record, recomputed from `start` on. */
  const verifyFrom = async (
    receipt: AnchorReceipt,
    start: FileAnchorCheckpoint,
  ): Promise<AnchorVerification> => {
    const lines = await readLinesFrom(path, start.offset, receipt.seq - start.seq + 1);
    if (lines === null) return invalid("the anchor file does not exist");
    const { records, bad } = parseLines(lines);
    if (bad !== null)
      return invalid(`line ${start.seq + bad + 1} of the anchor file is not a canonical anchor record`);
    return verifyReceiptInChain(receipt, records, undefined, start);
  };

  // The file stays open between appends (one process per file): each append is then one write and
  // one fdatasync, not also a mkdir, an open and a close, each a thread-pool round trip. The write
  // is made directly: it only reaches the page cache, which costs less than a thread-pool round trip;
  // the fdatasync (the line and the file's new size, not its times) is what makes it durable.
  let handle: FileHandle | null = null;
  const release = async () => {
    const open = handle;
    handle = null;
    await open?.close().catch(() => undefined);
  };

  const append = async (line: string): Promise<void> => {
    if (handle === null) {
      await mkdir(dirname(path), { recursive: true });
      handle = await open(path, "a");
    }
    const bytes = Buffer.from(`${line}\n`, "utf8");
    for (let written = 0; written < bytes.length; ) {
      written += writeSync(handle.fd, bytes, written, bytes.length - written);
    }
    await handle.datasync();
  };

  return {
    name: FILE_ANCHOR_NAME,
    anchor: (entry) => {
      const run = queue.then(async () => {
        try {
          tail ??= await loadTail();
          const record = nextAnchorRecord(tail, entry, clock.now());
          const line = anchorRecordLine(record);
          await append(line);
          const recordHash = sha256Hex(line);
          tail = { seq: record.seq, hash: recordHash, size: (tail?.size ?? 0) + Buffer.byteLength(line) + 1 };
          if (isCheckpointSeq(record.seq + 1)) {
            // The record is durable and its receipt valid whatever happens here: an entry that could not
            // be written reads as missing, and verification then takes the whole chain.
            await writeIndexEntry(indexPath, {
              seq: record.seq + 1,
              offset: tail.size,
              prevHash: recordHash,
            }).catch(() => undefined);
          }
          return {
            ...record,
            backend: FILE_ANCHOR_NAME,
            anchorId: `${basename(path)}#${record.seq}`,
            recordHash,
          };
        } catch (e) {
          tail = undefined; // re-read the file (and open it again) before the next append
          await release();
          throw e instanceof AppError ? e : failure(`Could not append to the anchor file ${path}.`, e);
        }
      });
      queue = run.catch(() => undefined);
      return run;
    },
    verify: async (receipt): Promise<AnchorVerification> => {
      if (receipt.backend !== FILE_ANCHOR_NAME) return invalid(`not a ${FILE_ANCHOR_NAME} receipt`);
      const self = verifyReceiptFields(receipt);
      if (!self.valid) return self;
      try {
        const from = checkpointSeqAtOrBefore(receipt.seq);
        if (from === 0) return await verifyFrom(receipt, FILE_GENESIS);
        // An index that cannot be read costs only speed: the whole chain decides below.
        const checkpoint = await readIndexEntry(indexPath, from).catch(() => null);
        if (checkpoint !== null) {
          const bounded = await verifyFrom(receipt, checkpoint);
          if (bounded.valid) return bounded;
        }
        // No entry, or the stretch does not recompute from it: the chain from its first record decides
        // (the index alone never makes a receipt valid), and an intact chain gets its index rewritten.
        const whole = await verifyFrom(receipt, FILE_GENESIS);
        if (whole.valid) reindex();
        return whole;
      } catch (e) {
        throw failure(`Could not read the anchor file ${path}.`, e);
      }
    },
    close: async () => {
      await queue;
      await release();
    },
  };
};
