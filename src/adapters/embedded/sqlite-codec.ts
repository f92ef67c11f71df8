import { deflateRawSync, inflateRawSync } from "node:zlib";

/**
 * Documents are stored as JSON; dates as `{"$$date": epoch ms}` (NeDB's own form, so imported
 * documents need no translation) and revived as Date on reading. A document of at least
 * COMPRESS_FROM_CHARS characters (an agent with its transcript, whose prompts repeat the query and
 * the other agents' answers) is stored deflated, as a BLOB: a third or less of its JSON on disk, for
 * tens of microseconds per write. Either form reads back the same.
 */

/** Documents this long (in JSON characters) or longer are stored deflated. @default 256 */
export const COMPRESS_FROM_CHARS = 256;

/** A stored document: JSON text, or deflated JSON. */
export type StoredDoc = string | Buffer;

export const encodeDoc = (value: unknown): StoredDoc => {
  const text = JSON.stringify(value, function (this: Record<string, unknown>, key, v) {
    const raw = this[key];
    return raw instanceof Date ? { $$date: raw.getTime() } : v;
  });
  return text.length < COMPRESS_FROM_CHARS ? text : deflateRawSync(text);
};

export const decodeDoc = <T>(stored: StoredDoc): T =>
  JSON.parse(typeof stored === "string" ? stored : inflateRawSync(stored).toString("utf8"), (_key, v) =>
    typeof v === "object" && v !== null && typeof v.$$date === "number" ? new Date(v.$$date) : v,
  ) as T;
