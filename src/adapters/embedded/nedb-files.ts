import { existsSync, readFileSync } from "node:fs";
import { AppError, ErrorCode } from "../../domain/errors.js";

/**
 * Reading the data files the embedded store wrote before it moved to SQLite (NeDB 4's persistence
 * format, lib/persistence.js `treatRawData` and lib/model.js `deserialize`): one JSON document per
 * line; dates as `{"$$date": epoch ms}`; a later line with the same `_id` replaces an earlier one and
 * `{"_id": …, "$$deleted": true}` removes it; `$$indexCreated` / `$$indexRemoved` lines describe indexes
 * only. NeDB tolerated up to 10 % unreadable lines (a write cut short by a crash); so does this.
 */

/** NeDB's default `corruptAlertThreshold`: the share of unreadable lines it still loaded a file with. */
export const NEDB_CORRUPT_ALERT_THRESHOLD = 0.1;

/** A document as NeDB stored it: its fields and `_id`. */
export type NedbDoc = Record<string, unknown> & { _id: string };

/** NeDB's reviver: `{"$$date": n}` is a Date. */
const revive = (key: string, value: unknown): unknown => {
  if (key === "$$date") return new Date(value as number);
  if (typeof value === "object" && value !== null && "$$date" in value)
    return (value as { $$date: unknown }).$$date;
  return value;
};

/** The live documents of a NeDB data file's text, in the order of their last write. */
export const parseNedbData = (text: string, file: string): NedbDoc[] => {
  const lines = text.split("\n").filter((line) => line !== "");
  const byId = new Map<string, NedbDoc>();
  let corrupt = 0;
  for (const line of lines) {
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(line, revive) as Record<string, unknown>;
    } catch {
      corrupt++;
      continue;
    }
    const id = doc._id;
    if (typeof id !== "string" || id === "") continue; // index lines ($$indexCreated, $$indexRemoved)
    byId.delete(id); // a rewrite moves the document to its latest position
    if (doc.$$deleted !== true) byId.set(id, doc as NedbDoc);
  }
  if (lines.length > 0 && corrupt / lines.length > NEDB_CORRUPT_ALERT_THRESHOLD) {
    throw new AppError(
      ErrorCode.StoreUnavailable,
      `${corrupt} of ${lines.length} lines of the NeDB data file ${file} are unreadable; refusing to import it.`,
    );
  }
  return [...byId.values()];
};

/**
 * The live documents of a NeDB data file, or null when there is none. Like NeDB, a missing file whose
 * `<file>~` (the temporary file of a compaction cut short) exists is read from that.
 */
export const readNedbFile = (path: string): NedbDoc[] | null => {
  const source = existsSync(path) ? path : existsSync(`${path}~`) ? `${path}~` : null;
  return source === null ? null : parseNedbData(readFileSync(source, "utf8"), source);
};
