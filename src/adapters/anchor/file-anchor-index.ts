import { constants } from "node:fs";
import { open, readFile, rename, writeFile } from "node:fs/promises";
import { type AnchorChainStart, DEFAULT_ANCHOR_CHECKPOINT_INTERVAL } from "../../domain/anchor.js";
import { isHashHex } from "../../domain/merkle.js";

/**
 * The file anchor's checkpoint index: a side file next to the chain (`anchors.jsonl.checkpoints`) with
 * one fixed-width entry per checkpoint — the seq it starts at, the byte offset of that record's line and
 * the hash that record links to. Entry k (checkpoint seq k × interval, k ≥ 1) sits at byte
 * (k − 1) × {@link ANCHOR_INDEX_ENTRY_BYTES}, so finding one is a single positional read. The index is
 * derived from the chain and never trusted alone: a verification that starts at an entry still
 * recomputes every record it reads, and one that does not pass falls back to the whole chain.
 */

/** Appended to the chain file's path to name its index. */
export const ANCHOR_INDEX_SUFFIX = ".checkpoints";
/** Decimal digits of an entry's seq and offset (every safe integer fits). */
const NUMBER_WIDTH = 16;
/** Hex digits of a SHA-256 hash. */
const HASH_WIDTH = 64;
/** Bytes of one entry: seq, space, offset, space, hash, newline. */
export const ANCHOR_INDEX_ENTRY_BYTES = NUMBER_WIDTH + 1 + NUMBER_WIDTH + 1 + HASH_WIDTH + 1;

/** A checkpoint of the file chain: where record `seq` starts in the file and what it links to. */
export interface FileAnchorCheckpoint extends AnchorChainStart {
  /** Byte offset of record `seq`'s line in the chain file. */
  readonly offset: number;
}

/** The index file of a chain file. */
export const anchorIndexPath = (chainPath: string): string => `${chainPath}${ANCHOR_INDEX_SUFFIX}`;

/** One entry's fixed-width line. */
export const formatIndexEntry = (checkpoint: FileAnchorCheckpoint): string =>
  `${String(checkpoint.seq).padStart(NUMBER_WIDTH, "0")} ${String(checkpoint.offset).padStart(NUMBER_WIDTH, "0")} ${checkpoint.prevHash}\n`;

const ENTRY = new RegExp(`^(\\d{${NUMBER_WIDTH}}) (\\d{${NUMBER_WIDTH}}) ([0-9a-f]{${HASH_WIDTH}})\\n$`);

/** Parses one entry; null unless it is a well-formed line. */
export const parseIndexEntry = (text: string): FileAnchorCheckpoint | null => {
  const match = ENTRY.exec(text);
  if (match === null) return null;
  const [, seq, offset, prevHash] = match;
  return isHashHex(prevHash) ? { seq: Number(seq), offset: Number(offset), prevHash: prevHash! } : null;
};

const positionOf = (seq: number, interval: number): number => (seq / interval - 1) * ANCHOR_INDEX_ENTRY_BYTES;

/**
 * The entry of the checkpoint at `seq` (a positive multiple of the interval); null when the index is
 * missing, too short, or holds anything but a well-formed entry for exactly that seq there.
 */
export const readIndexEntry = async (
  indexPath: string,
  seq: number,
  interval = DEFAULT_ANCHOR_CHECKPOINT_INTERVAL,
): Promise<FileAnchorCheckpoint | null> => {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(indexPath, "r");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
  try {
    const buffer = Buffer.alloc(ANCHOR_INDEX_ENTRY_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, ANCHOR_INDEX_ENTRY_BYTES, positionOf(seq, interval));
    const entry = parseIndexEntry(buffer.toString("utf8", 0, bytesRead));
    return entry?.seq === seq ? entry : null;
  } finally {
    await handle.close();
  }
};

/**
 * Writes one entry at its own place (creating the index when missing), so an entry lost earlier leaves
 * a gap that reads as missing rather than shifting every later one.
 */
export const writeIndexEntry = async (
  indexPath: string,
  checkpoint: FileAnchorCheckpoint,
  interval = DEFAULT_ANCHOR_CHECKPOINT_INTERVAL,
): Promise<void> => {
  const handle = await open(indexPath, constants.O_WRONLY | constants.O_CREAT);
  try {
    const line = Buffer.from(formatIndexEntry(checkpoint), "utf8");
    await handle.write(line, 0, line.length, positionOf(checkpoint.seq, interval));
  } finally {
    await handle.close();
  }
};

/** Replaces the whole index with `checkpoints` (in seq order, one per interval) unless it holds exactly them. */
export const rewriteIndex = async (
  indexPath: string,
  checkpoints: readonly FileAnchorCheckpoint[],
): Promise<void> => {
  const wanted = checkpoints.map(formatIndexEntry).join("");
  const current = await readFile(indexPath, "utf8").catch(() => "");
  if (current === wanted) return;
  // Written aside and renamed over the index: a reader sees the old index or the new one, never half.
  const aside = `${indexPath}.${process.pid}.tmp`;
  await writeFile(aside, wanted, "utf8");
  await rename(aside, indexPath);
};
