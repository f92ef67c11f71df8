import { type FileHandle, open } from "node:fs/promises";
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
 * Makes a loaded NeDB datastore append its writes through one open file handle instead of
 * `fs.appendFile` per write (open, write, close: three thread-pool round trips and a FileHandle each
 * time). The profile of a run on the embedded store showed those appends as its largest CPU cost
 * (BENCHMARKS.md, benchmark 1). The bytes written are the same and so is durability: NeDB never
 * fsyncs appends, only compactions. A compaction replaces the file (write to a temporary file, then
 * rename), so the handle is dropped on `compaction.done` and the next append opens the new file;
 * NeDB runs appends and compactions one at a time on the datastore's executor, so none is in between.
 *
 * Returns a function that closes the handle; call it once the datastore is no longer written to.
 */
export const appendThroughOpenHandle = (ds: nedb.default<object>): (() => Promise<void>) => {
  const persistence = ds.persistence as unknown as PersistenceInternals;
  if (persistence.inMemoryOnly) return async () => {};
  let handle: Promise<FileHandle> | null = null;
  const release = async () => {
    const current = handle;
    handle = null;
    await current?.then((h) => h.close()).catch(() => undefined);
  };
  ds.on("compaction.done", () => void release());
  persistence.persistNewStateAsync = async (newDocs) => {
    let text = "";
    for (const doc of newDocs) text += `${await persistence.afterSerialization(model.serialize(doc))}\n`;
    if (text.length === 0) return;
    handle ??= open(persistence.filename, "a", persistence.modes.fileMode);
    try {
      // The handle is opened for appending (O_APPEND): every write lands at the end of the file.
      await (await handle).appendFile(text, "utf8");
    } catch (e) {
      // A handle that failed (or could not be opened) is not reused; the next write tries afresh.
      await release();
      throw e;
    }
  };
  return release;
};
