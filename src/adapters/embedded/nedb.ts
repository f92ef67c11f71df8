import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import nedb from "@seald-io/nedb";
import { appendThroughOpenHandle } from "./append-handle.js";

/**
 * What the embedded stores share on @seald-io/nedb: opening a folder of data files (one per collection,
 * each an append-only file compacted on a timer) and closing it, and NeDB's duplicate-key error.
 */

/** How often the append-only data files are rewritten without superseded lines. @default 60 s */
export const DEFAULT_COMPACTION_INTERVAL_MS = 60_000;

// The package is CommonJS (module.exports = Datastore) but its typings declare `export default`;
// under NodeNext the default import is therefore the class at run time and the module to the compiler.
export const Datastore = nedb as unknown as typeof nedb.default;
export type Datastore<T extends object> = nedb.default<T>;

/** Where an embedded store keeps its data files. */
export interface NedbOptions {
  /** Folder holding one data file per collection; created if missing. `null` keeps everything in memory. */
  readonly dataDir: string | null;
  /** @default DEFAULT_COMPACTION_INTERVAL_MS (60 s) */
  readonly compactionIntervalMs?: number;
}

/** The datastores of one embedded store. */
export interface NedbFiles {
  /** Opens (loads) the datastore in `<prefix><name>.db`, or an in-memory one. */
  open<D extends object>(name: string): Promise<Datastore<D>>;
  /** Stops every opened datastore's compaction timer and, on disk, compacts its file; idempotent. */
  close(): Promise<void>;
}

/** The data files of a store in `options.dataDir` (created if missing), named `<prefix><collection>.db`. */
export const openNedbFiles = async (options: NedbOptions, prefix = ""): Promise<NedbFiles> => {
  const { dataDir } = options;
  if (dataDir !== null) await mkdir(dataDir, { recursive: true });
  const opened: Datastore<object>[] = [];
  /** Writes go through one open handle per file (see append-handle.ts); these close them. */
  const closeAppends: (() => Promise<void>)[] = [];
  let closed = false;
  return {
    open: async <D extends object>(name: string): Promise<Datastore<D>> => {
      const ds = new Datastore<D>(
        dataDir === null ? { inMemoryOnly: true } : { filename: join(dataDir, `${prefix}${name}.db`) },
      );
      await ds.loadDatabaseAsync();
      closeAppends.push(appendThroughOpenHandle(ds as unknown as Datastore<object>));
      ds.setAutocompactionInterval(options.compactionIntervalMs ?? DEFAULT_COMPACTION_INTERVAL_MS);
      opened.push(ds as unknown as Datastore<object>);
      return ds;
    },
    close: async () => {
      if (closed) return;
      closed = true;
      for (const ds of opened) {
        ds.stopAutocompaction();
        if (dataDir !== null) await ds.compactDatafileAsync();
      }
      await Promise.all(closeAppends.map((c) => c()));
    },
  };
};

/** True for NeDB's unique-index violation (a duplicate `_id` or unique field). */
export const isUniqueViolation = (e: unknown): boolean =>
  typeof e === "object" && e !== null && "errorType" in e && e.errorType === "uniqueViolated";

/** The key a unique-index violation refused (its index's `key`), if the error carries one. */
export const refusedKey = (e: unknown): unknown =>
  typeof e === "object" && e !== null && "key" in e ? e.key : undefined;

/**
 * The query for one document of a tenant by id (plus any other conditions). NeDB finds candidates
 * through one index only: that of the *last* field of the query, in key order, that is indexed and
 * given an exact value (`_getRawCandidates` in its datastore.js). `_id` therefore goes last, after
 * `tenantId` (indexed too): the lookup is then of the one document, not of every document of the tenant.
 */
export const ownedById = (tenantId: string, id: string, conditions: Record<string, unknown> = {}) => ({
  tenantId,
  ...conditions,
  _id: id,
});
