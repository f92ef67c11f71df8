import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { AppError, ErrorCode } from "../../domain/errors.js";
import { importNedbFolder, type NedbImportReport } from "./nedb-import.js";
import { migrate } from "./schema.js";
import {
  startWalCheckpointer,
  type WalCheckpointer,
  type WalCheckpointObserver,
} from "./wal-checkpointer.js";

/**
 * The embedded deployment's database: one SQLite file (better-sqlite3) in the data folder, shared by
 * the run, evolution and provenance stores. SQLite keeps only its page cache in memory, so the
 * server's memory and its start-up time do not grow with history, and every query below is answered
 * from an index.
 */

/** The database file inside VEX_DATA_DIR. */
export const EMBEDDED_DB_FILE = "vex.db";

/**
 * `synchronous` in WAL mode. NORMAL syncs the write-ahead log at each checkpoint rather than at each
 * commit: a commit is in the log (the OS's page cache) when the call returns, so a crash of the
 * process (SIGKILL, out of memory) loses no acknowledged write; only a power loss or an OS crash can
 * roll back the last commits (never corrupt the file). FULL would close that gap at the price of an
 * fsync per commit, which costs more than the rest of a run's store work.
 */
export const SQLITE_SYNCHRONOUS = "NORMAL";

/** How long a write waits for another connection's write (the CLI, a second store) before failing. @default 5 s */
export const SQLITE_BUSY_TIMEOUT_MS = 5_000;

/** Where an embedded store keeps its data: a folder (created if missing) or `null` for memory only. */
export interface EmbeddedDataDirOptions {
  readonly dataDir: string | null;
  /** Told of the write-ahead log's checkpoints, which a worker thread makes (wal-checkpointer.ts). */
  readonly walCheckpoints?: WalCheckpointObserver;
}

/** An opened embedded database, shared by stores; whoever opened it closes it. */
export interface EmbeddedDatabase {
  readonly db: Database.Database;
  /** The file, or null in memory. */
  readonly path: string | null;
  /** What the first start on a NeDB data folder imported (see nedb-import.ts); null otherwise. */
  readonly imported: NedbImportReport | null;
  /** Stops the log's checkpoints, then closes the connection (which checkpoints what is left). */
  close(): Promise<void>;
}

/** Store factories take either a folder (they then own the database) or an opened, shared one. */
export type EmbeddedOptions = EmbeddedDataDirOptions | { readonly database: EmbeddedDatabase };

/** Opens (creating and migrating as needed) the database of a data folder, or an in-memory one. */
export const openEmbeddedDatabase = (options: EmbeddedDataDirOptions): EmbeddedDatabase => {
  const { dataDir } = options;
  const path = dataDir === null ? null : join(dataDir, EMBEDDED_DB_FILE);
  let db: Database.Database;
  try {
    if (dataDir !== null) mkdirSync(dataDir, { recursive: true });
    db = new Database(path ?? ":memory:", { timeout: SQLITE_BUSY_TIMEOUT_MS });
  } catch (e) {
    throw openFailure(path, e);
  }
  let imported: NedbImportReport | null;
  try {
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${SQLITE_SYNCHRONOUS}`);
    migrate(db);
    imported = dataDir === null ? null : importNedbFolder(db, dataDir, new Date());
  } catch (e) {
    db.close();
    throw e instanceof AppError ? e : openFailure(path, e);
  }
  const checkpointer: WalCheckpointer | null =
    path === null
      ? null
      : startWalCheckpointer(path, (pages) => db.pragma(`wal_autocheckpoint = ${pages}`), {
          busyTimeoutMs: SQLITE_BUSY_TIMEOUT_MS,
          ...(options.walCheckpoints ? { observer: options.walCheckpoints } : {}),
        });
  let closing: Promise<void> | null = null;
  return {
    db,
    path,
    imported,
    close: () => {
      closing ??= (async () => {
        await checkpointer?.close();
        db.close();
      })();
      return closing;
    },
  };
};

/** The database a store works on, and how to release it when the store closes. */
export const databaseOf = (
  options: EmbeddedOptions,
): { database: EmbeddedDatabase; release(): Promise<void> } => {
  if ("database" in options) return { database: options.database, release: async () => {} };
  const database = openEmbeddedDatabase(options);
  return { database, release: database.close };
};

const codeOf = (e: unknown): string =>
  typeof e === "object" && e !== null && "code" in e && typeof e.code === "string" ? e.code : "";

/** A file that is not (or no longer) a database: refused at start with a message naming the file. */
const CORRUPT_CODES = new Set(["SQLITE_CORRUPT", "SQLITE_NOTADB"]);

const openFailure = (path: string | null, e: unknown): AppError => {
  const code = codeOf(e);
  const where = path ?? "memory";
  if (CORRUPT_CODES.has(code) || code.startsWith("SQLITE_CORRUPT")) {
    return new AppError(
      ErrorCode.StoreUnavailable,
      `The embedded database ${where} is not a readable SQLite database (${code}); restore it from a backup or move it aside (VEX_DATA_DIR).`,
      { cause: e },
    );
  }
  return new AppError(
    ErrorCode.StoreUnavailable,
    `Cannot open the embedded database ${where} (VEX_DATA_DIR).`,
    {
      cause: e,
    },
  );
};

/** True for SQLite refusing a row because of a primary key or unique index. */
export const isUniqueViolation = (e: unknown): boolean => {
  const code = codeOf(e);
  return code === "SQLITE_CONSTRAINT_PRIMARYKEY" || code === "SQLITE_CONSTRAINT_UNIQUE";
};

// Result codes meaning "the database cannot serve now" (locked by another writer past the timeout,
// disk full or failing, file gone); the extended codes (SQLITE_IOERR_WRITE …) start with these.
const UNAVAILABLE_PREFIXES = [
  "SQLITE_BUSY",
  "SQLITE_LOCKED",
  "SQLITE_IOERR",
  "SQLITE_FULL",
  "SQLITE_CANTOPEN",
];

const isUnavailable = (e: unknown): boolean => {
  const code = codeOf(e);
  if (UNAVAILABLE_PREFIXES.some((p) => code.startsWith(p)) || CORRUPT_CODES.has(code)) return true;
  // better-sqlite3 refuses any statement on a closed connection with this TypeError.
  return e instanceof TypeError && /database connection is not open/.test(e.message);
};

/**
 * The guard of an embedded store's operations: an AppError leaves as it is, an unavailable database
 * as STORE_UNAVAILABLE, anything else (a bug: a statement SQLite refuses) as INTERNAL_SERVER_ERROR;
 * the driver's error is the cause.
 */
export const guardFor =
  (what: string) =>
  async <T>(op: () => T | Promise<T>): Promise<T> => {
    try {
      return await op();
    } catch (e) {
      if (e instanceof AppError) throw e;
      if (isUnavailable(e)) {
        throw new AppError(ErrorCode.StoreUnavailable, `The ${what} could not complete the operation.`, {
          cause: e,
        });
      }
      throw new AppError(ErrorCode.Internal, `An operation of the ${what} failed.`, { cause: e });
    }
  };

export { decodeDoc, encodeDoc, type StoredDoc } from "./sqlite-codec.js";
