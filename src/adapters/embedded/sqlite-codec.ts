import { deflateRawSync, inflateRawSync } from "node:zlib";
import { AppError, ErrorCode } from "../../domain/errors.js";
import type { RunEvent } from "../../domain/events.js";
import DICTIONARY_SAMPLES from "./dictionaries.json" with { type: "json" };

/**
 * Documents are stored as JSON; dates as `{"$$date": epoch ms}` (NeDB's own form, so imported
 * documents need no translation) and revived as Date on reading. Three stored forms, all read back
 * the same:
 *
 * - JSON text (a short document, or one rewritten in place: an evolution member);
 * - deflated JSON, a BLOB (a document of at least COMPRESS_FROM_CHARS characters of such a kind);
 * - a BLOB of one marker byte naming a dictionary, then the JSON deflated with that dictionary
 *   (runs, agents, events, provenance records). A document's keys, prompts and enum values repeat
 *   from one document to the next but rarely within one, so a dictionary of representative documents
 *   of the kind (dictionaries.json, the one source) lets even a 200-byte event shrink to a third.
 *
 * The marker byte has bits 1–2 set: a raw deflate stream never starts so (that block type is
 * reserved, RFC 1951 §3.2.3), so rows written before dictionaries (plain deflate) still read as such.
 * A dictionary's bytes never change once written under its id (test/unit/sqlite-codec.test.ts pins
 * their hashes): a better dictionary is added under a new id and becomes its kind's current one.
 */

/** Documents of a kind without a dictionary this long (in JSON characters) or longer are stored deflated. @default 256 */
export const COMPRESS_FROM_CHARS = 256;

/**
 * Documents of a kind with a dictionary shorter than this (in JSON characters) stay text without a
 * deflate being tried: the marker byte and the stream's framing take most of what so short a text
 * could save, and every deflate pays the setup of its stream (10–20 µs) however short the text (a
 * new agent's empty transcript). @default 32
 */
export const DICTIONARY_FROM_CHARS = 32;

/**
 * The kinds of documents that have a dictionary; `"rewritten"`: a document its row will replace (an
 * evolution member's statistics, on every run; a run or an agent under way, when it ends), kept as
 * text since deflating it would cost a deflate per write and save nothing on disk; other documents
 * are `"other"`.
 */
export type DocKind = "run" | "agent" | "event" | "provenance" | "rewritten" | "other";

/** A stored document: JSON text, deflated JSON, or marker byte + JSON deflated with a dictionary. */
export type StoredDoc = string | Buffer;

/** Bits 1–2 of a marker byte (a reserved deflate block type); the dictionary id is in bits 3–7. */
const MARKER_BITS = 0b110;
const DICTIONARY_ID_SHIFT = 3;
/** Dictionary ids fit the five bits above the marker bits. */
export const MAX_DICTIONARY_ID = 0xff >> DICTIONARY_ID_SHIFT;

interface DictionaryEntry {
  readonly kind: DocKind;
  readonly samples: readonly unknown[];
}

/** A dictionary's bytes: its samples as the codec writes them, one per line. */
const dictionaryBytes = (entry: DictionaryEntry): Buffer =>
  Buffer.from(entry.samples.map((s) => JSON.stringify(s)).join("\n"), "utf8");

/** Every dictionary by id (old ones stay: rows written with them must still read). */
export const DICTIONARIES: ReadonlyMap<number, Buffer> = new Map(
  Object.entries(DICTIONARY_SAMPLES as Record<string, DictionaryEntry>).map(([id, entry]) => {
    const n = Number(id);
    if (!Number.isInteger(n) || n < 1 || n > MAX_DICTIONARY_ID) {
      throw new Error(`dictionary id ${id} is outside 1–${MAX_DICTIONARY_ID}`);
    }
    return [n, dictionaryBytes(entry)];
  }),
);

/** The dictionary each kind is written with: its highest id. */
const CURRENT: ReadonlyMap<DocKind, { id: number; dictionary: Buffer; marker: Buffer }> = (() => {
  const byKind = new Map<DocKind, { id: number; dictionary: Buffer; marker: Buffer }>();
  for (const [id, entry] of Object.entries(DICTIONARY_SAMPLES as Record<string, DictionaryEntry>)) {
    const n = Number(id);
    const seen = byKind.get(entry.kind);
    if (seen === undefined || seen.id < n) {
      byKind.set(entry.kind, {
        id: n,
        dictionary: DICTIONARIES.get(n) as Buffer,
        marker: Buffer.of((n << DICTIONARY_ID_SHIFT) | MARKER_BITS),
      });
    }
  }
  return byKind;
})();

/** The id of the dictionary a kind is written with, or null for none. */
export const currentDictionaryId = (kind: DocKind): number | null => CURRENT.get(kind)?.id ?? null;

/**
 * A copy of the value with every Date as `{"$$date": ms}`, for JSON.stringify: walking once before is
 * about twice as fast as a replacer function, which JSON.stringify calls for every key.
 */
const withStoredDates = (value: unknown): unknown => {
  if (typeof value !== "object" || value === null) return value;
  if (value instanceof Date) return { $$date: value.getTime() };
  if (Array.isArray(value)) return value.map(withStoredDates);
  const out: Record<string, unknown> = {};
  for (const key in value) {
    const v = (value as Record<string, unknown>)[key];
    out[key] = typeof v === "object" && v !== null ? withStoredDates(v) : v;
  }
  return out;
};

const toText = (value: unknown): string => JSON.stringify(withStoredDates(value));

export const encodeDoc = (value: unknown, kind: DocKind = "other"): StoredDoc => {
  const text = toText(value);
  if (kind === "rewritten") return text;
  const current = CURRENT.get(kind);
  if (current !== undefined) {
    if (text.length < DICTIONARY_FROM_CHARS) return text;
    const packed = deflateRawSync(text, { dictionary: current.dictionary });
    // Text that does not shrink (tiny documents) stays text.
    return packed.length + 1 < Buffer.byteLength(text) ? Buffer.concat([current.marker, packed]) : text;
  }
  return text.length < COMPRESS_FROM_CHARS ? text : deflateRawSync(text);
};

/** A stored document's JSON text. Throws INTERNAL_SERVER_ERROR for a dictionary this code does not know. */
export const storedText = (stored: StoredDoc): string => {
  if (typeof stored === "string") return stored;
  const first = stored[0] ?? 0;
  if ((first & MARKER_BITS) !== MARKER_BITS) return inflateRawSync(stored).toString("utf8");
  const id = first >> DICTIONARY_ID_SHIFT;
  const dictionary = DICTIONARIES.get(id);
  if (dictionary === undefined) {
    throw new AppError(
      ErrorCode.Internal,
      `A stored document names compression dictionary ${id}, which this server does not know (written by a newer version?).`,
    );
  }
  return inflateRawSync(stored.subarray(1), { dictionary }).toString("utf8");
};

/** Replaces `{"$$date": ms}` objects with Dates, in place, walking the parsed value once. */
const reviveDates = (value: unknown): unknown => {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      if (typeof v === "object" && v !== null) value[i] = reviveDates(v);
    }
    return value;
  }
  const record = value as Record<string, unknown>;
  const ms = record.$$date;
  if (typeof ms === "number") return new Date(ms);
  for (const key in record) {
    const v = record[key];
    if (typeof v === "object" && v !== null) record[key] = reviveDates(v);
  }
  return record;
};

export const decodeDoc = <T>(stored: StoredDoc): T => reviveDates(JSON.parse(storedText(stored))) as T;

/**
 * An event's document leaves out what its row's columns hold (run, tenant, seq); reading puts them
 * back (embedded-store.ts). Events stored before kept them in the document too, and read the same.
 */
export const encodeEvent = (event: RunEvent): StoredDoc => {
  const { runId: _runId, tenantId: _tenantId, seq: _seq, ...body } = event;
  return encodeDoc(body, "event");
};
