import { closeSync, openSync, writeSync } from "node:fs";
import { createRequire } from "node:module";
import type nedb from "@seald-io/nedb";

/** NeDB's own line format (its `model.serialize`), so that the files stay byte-for-byte what NeDB writes. */
const model = createRequire(import.meta.url)("@seald-io/nedb/lib/model.js") as {
  serialize(doc: unknown): string;
};

/** The parts of NeDB's (internal) Persistence this replaces and reads. */
interface PersistenceInternals {
  readonly inMemoryOnly: boolean;
  readonly filename: string;
  readonly modes: { readonly fileMode: number };
  afterSerialization(line: string): Promise<string>;
  persistNewStateAsync(newDocs: readonly unknown[]): Promise<void>;
}

/**
 * Makes a loaded NeDB datastore append its writes through one open file descriptor, with a
 * synchronous `write(2)`, instead of `fs.appendFile` per write (open, write, close: three thread-pool
 * round trips). The profile of a run on the embedded store showed those appends as its largest CPU
 * cost (BENCHMARKS.md, benchmark 1): on this kind of machine a thread-pool write of a line costs ~45 µs
 * of CPU against ~5 µs for the same write made directly, which only copies the line into the page
 * cache. The bytes written are the same and so is durability: NeDB never fsyncs appends, only
 * compactions. A compaction replaces the file (write to a temporary file, then rename), so the
 * descriptor is dropped on `compaction.done` and the next append opens the new file; NeDB runs appends
 * and compactions one at a time on the datastore's executor, so none is in between.
 *
 * Returns a function that closes the descriptor; call it once the datastore is no longer written to.
 */
export const appendThroughOpenHandle = (ds: nedb.default<object>): (() => Promise<void>) => {
  const persistence = ds.persistence as unknown as PersistenceInternals;
  if (persistence.inMemoryOnly) return async () => {};
  let fd: number | null = null;
  const release = () => {
    const current = fd;
    fd = null;
    if (current === null) return;
    try {
      closeSync(current);
    } catch {
      // Already unusable: nothing left to release.
    }
  };
  ds.on("compaction.done", release);
  persistence.persistNewStateAsync = async (newDocs) => {
    let text = "";
    for (const doc of newDocs) text += `${await persistence.afterSerialization(model.serialize(doc))}\n`;
    if (text.length === 0) return;
    const bytes = Buffer.from(text, "utf8");
    try {
      // Opened for appending (O_APPEND): every write lands at the end of the file.
      fd ??= openSync(persistence.filename, "a", persistence.modes.fileMode);
      for (let written = 0; written < bytes.length; ) {
        written += writeSync(fd, bytes, written, bytes.length - written);
      }
    } catch (e) {
      // A descriptor that failed (or could not be opened) is not reused; the next write tries afresh.
      release();
      throw e;
    }
  };
  return async () => release();
};
