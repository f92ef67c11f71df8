import { type FileHandle, mkdir, open, readFile, truncate } from "node:fs/promises";
import { basename, dirname } from "node:path";
import {
  type AnchorRecord,
  type AnchorVerification,
  anchorRecordLine,
  invalid,
  nextAnchorRecord,
  parseAnchorLine,
  verifyAnchorChain,
  verifyReceiptInChain,
} from "../../domain/anchor.js";
import { sha256Hex } from "../../domain/canonical.js";
import { AppError, ErrorCode } from "../../domain/errors.js";
import type { AnchorBackend } from "../../ports/anchor.js";
import type { Clock } from "../../ports/clock.js";

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
}

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
 * carrying the SHA-256 of the previous line. Every append is fsync'd before its receipt is returned, and
 * appends are serialised in this process (one process per file). A last line without its newline was
 * never acknowledged and is truncated on start; a chain that does not recompute is never extended.
 */
export const createFileAnchor = (options: FileAnchorOptions): AnchorBackend => {
  const { path, clock } = options;
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
    const last = records.at(-1);
    return last === undefined ? null : { seq: last.seq, hash: chain.hashes.at(-1)! };
  };

  // The file stays open between appends (one process per file): each append is then one write and
  // one fsync, not also a mkdir, an open and a close, each a thread-pool round trip.
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
    await handle.appendFile(`${line}\n`, "utf8");
    await handle.sync();
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
          tail = { seq: record.seq, hash: recordHash };
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
      let read: Awaited<ReturnType<typeof readLines>>;
      try {
        read = await readLines(path);
      } catch (e) {
        throw failure(`Could not read the anchor file ${path}.`, e);
      }
      if (read === null) return invalid("the anchor file does not exist");
      const { records, bad } = parseLines(read.lines.slice(0, receipt.seq + 1));
      if (bad !== null) return invalid(`line ${bad + 1} of the anchor file is not a canonical anchor record`);
      return verifyReceiptInChain(receipt, records);
    },
    close: async () => {
      await queue;
      await release();
    },
  };
};
