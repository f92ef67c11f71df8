import { badInput } from "./errors.js";
import { HASH_BYTES } from "./merkle.js";
import { fromBase64, isValidKeyName, toBase64 } from "./signed-note.js";

/**
 * C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint) note text: the origin line, the tree size in
 * decimal without leading zeroes, and the base64 RFC 6962 root hash, each ending in a newline. No
 * extension lines are written (the spec does not recommend them).
 */

/** A log's tree head as a checkpoint states it. */
export interface TreeHead {
  /** Unique identifier of the log; also the signing key's name (tlog-checkpoint §Signatures). */
  readonly origin: string;
  readonly treeSize: number;
  /** 32-byte RFC 6962 root. */
  readonly rootHash: Uint8Array;
}

const DECIMAL = /^(?:0|[1-9][0-9]*)$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The checkpoint note text of a tree head. Throws BAD_USER_INPUT for an unusable origin, size or hash. */
export const checkpointText = (head: TreeHead): string => {
  if (!isValidKeyName(head.origin)) {
    throw badInput(
      `A checkpoint origin must be non-empty, without spaces or "+": ${JSON.stringify(head.origin)}.`,
    );
  }
  if (!Number.isSafeInteger(head.treeSize) || head.treeSize < 0) {
    throw badInput(`Invalid tree size ${head.treeSize}.`);
  }
  if (head.rootHash.length !== HASH_BYTES) throw badInput(`A root hash is ${HASH_BYTES} bytes.`);
  return `${head.origin}\n${head.treeSize}\n${toBase64(head.rootHash)}\n`;
};

/** The outcome of {@link parseCheckpointText}. */
export type ParsedCheckpoint =
  | { readonly ok: true; readonly head: TreeHead; readonly extensions: readonly string[] }
  | { readonly ok: false; readonly reason: string };

/**
 * Parses checkpoint note text (the signed part of the note, e.g. from `openNote`): at least three
 * non-empty lines, a canonical decimal size and a canonical base64 32-byte root. Extension lines are
 * returned as they are.
 */
export const parseCheckpointText = (text: string): ParsedCheckpoint => {
  const fail = (reason: string): ParsedCheckpoint => ({ ok: false, reason });
  if (!text.endsWith("\n")) return fail("checkpoint text does not end in a newline");
  const lines = text.slice(0, -1).split("\n");
  const [origin = "", size = "", root = "", ...extensions] = lines;
  if (lines.length < 3 || lines.some((l) => l.length === 0))
    return fail("checkpoint needs three non-empty lines");
  if (!DECIMAL.test(size) || !Number.isSafeInteger(Number(size)))
    return fail(`bad tree size ${JSON.stringify(size)}`);
  const rootHash = BASE64.test(root) ? fromBase64(root) : new Uint8Array();
  if (rootHash.length !== HASH_BYTES || toBase64(rootHash) !== root) return fail("bad root hash");
  return { ok: true, head: { origin, treeSize: Number(size), rootHash }, extensions };
};

/**
 * A tenant's ledger origin: `<prefix>/<tenant>` with the tenant id percent-encoded, so that it never holds a
 * space or "+" and two tenants never share a log identity.
 */
export const ledgerOrigin = (prefix: string, tenantId: string): string =>
  `${prefix}/${encodeURIComponent(tenantId)}`;
