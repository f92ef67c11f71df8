import { decodeDoc, type StoredDoc } from "./sqlite-codec.js";

/**
 * Documents decoded once and kept while their stored bytes stay the same, by record id. Records are
 * read again and again — a run and its agents on every step of the run, a page of agents or runs by
 * every dashboard that polls it — and inflating and parsing a document is most of reading it. An
 * entry serves only a row whose stored bytes are those it was decoded from, so a rewritten document
 * is decoded afresh; the least recently read go first. Each read gets its own copy of the top level
 * (so a caller may set a field, as a patch does); the values under it are shared and frozen.
 */
export const createDecodedDocuments = <T extends object>(kept: number) => {
  const decoded = new Map<string, { readonly stored: StoredDoc; readonly doc: Readonly<T> }>();
  return (id: string, stored: StoredDoc): T => {
    const entry = decoded.get(id);
    // Deleted and set again: a Map iterates in insertion order, so its first key is the least recent.
    if (entry !== undefined) decoded.delete(id);
    const doc =
      entry !== undefined && sameBytes(entry.stored, stored) ? entry.doc : deepFreeze(decodeDoc<T>(stored));
    decoded.set(id, { stored, doc });
    if (decoded.size > kept) decoded.delete(decoded.keys().next().value as string);
    return { ...doc };
  };
};

const sameBytes = (a: StoredDoc, b: StoredDoc): boolean =>
  typeof a === "string" || typeof b === "string" ? a === b : a.equals(b);

/** The value, with every object and array in it frozen (Dates aside: their time stays as stored). */
const deepFreeze = <T>(value: T): T => {
  if (typeof value !== "object" || value === null || value instanceof Date || Object.isFrozen(value))
    return value;
  for (const v of Object.values(value)) deepFreeze(v);
  return Object.freeze(value);
};
