import {
  MongoBulkWriteError,
  MongoClientClosedError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerClosedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoSystemError,
  MongoTopologyClosedError,
  type WriteError,
} from "mongodb";
import { AppError, ErrorCode } from "../../domain/errors.js";

/** How the MongoDB stores report the driver's errors: always as an AppError, the driver's error as cause. */

/** Runs a store operation; whatever it throws leaves as an AppError with the driver's error as cause. */
export const guard = async <T>(op: () => Promise<T>): Promise<T> => {
  try {
    return await op();
  } catch (e) {
    throw toAppError(e);
  }
};

// Server-side codes meaning "this node cannot serve now" (shutting down, stepping down, unreachable).
const UNAVAILABLE_SERVER_CODES: ReadonlySet<number> = new Set([
  6, 7, 89, 91, 189, 9001, 10107, 11600, 11602, 13435, 13436,
]);

/** Maps any error from the driver to an AppError; connection and selection failures are STORE_UNAVAILABLE. */
export const toAppError = (e: unknown): AppError => {
  if (e instanceof AppError) return e;
  if (isUnavailable(e)) {
    return new AppError(ErrorCode.StoreUnavailable, "MongoDB is unavailable.", { cause: e });
  }
  if (isDuplicateKey(e)) return new AppError(ErrorCode.Conflict, "The record already exists.", { cause: e });
  return new AppError(ErrorCode.Internal, "A MongoDB operation failed.", { cause: e });
};

const isUnavailable = (e: unknown): boolean =>
  e instanceof MongoServerSelectionError ||
  // Also covers MongoNetworkTimeoutError and the pool-cleared error, both subclasses.
  e instanceof MongoNetworkError ||
  e instanceof MongoTopologyClosedError ||
  e instanceof MongoNotConnectedError ||
  e instanceof MongoServerClosedError ||
  e instanceof MongoClientClosedError ||
  e instanceof MongoOperationTimeoutError ||
  e instanceof MongoSystemError ||
  (e instanceof MongoServerError && typeof e.code === "number" && UNAVAILABLE_SERVER_CODES.has(e.code)) ||
  isWrappedDriverError(e) ||
  isSocketError(e);

/**
 * `insertMany` reports a failure to talk to the server (network, selection, timeout) as a
 * MongoBulkWriteError that copies the driver error's fields but not its class (driver 7.9,
 * bulk/common.js: "a driver related error not a bulk op error"): no write errors, no write-concern
 * error and no server code. One with a server code is judged by that code, above.
 */
const isWrappedDriverError = (e: unknown): boolean =>
  e instanceof MongoBulkWriteError &&
  writeErrorsOf(e).length === 0 &&
  e.err === undefined &&
  typeof e.code !== "number";

// Socket errors the driver lets through unwrapped: a write to a connection the server has just closed
// fails with a plain EPIPE Error ("This socket has been ended by the other party"), seen with driver 7.9.
const SOCKET_ERROR_CODES: ReadonlySet<string> = new Set([
  "EPIPE",
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTCONN",
  "ERR_SOCKET_CLOSED",
  "ERR_STREAM_DESTROYED",
  "ERR_STREAM_WRITE_AFTER_END",
]);

const isSocketError = (e: unknown): boolean =>
  e instanceof Error && "code" in e && typeof e.code === "string" && SOCKET_ERROR_CODES.has(e.code);

/** The server's duplicate-key error code (E11000): a unique index or `_id` refused the write. */
const DUPLICATE_KEY = 11000;

/** True for the server's duplicate-key error (E11000): a unique index or `_id` refused the write. */
export const isDuplicateKey = (e: unknown): boolean =>
  e instanceof MongoServerError && e.code === DUPLICATE_KEY;

/**
 * For a failed ordered `insertMany`: the position in the batch of the document refused as a duplicate
 * key (the ones before it were stored), or null when the failure is something else.
 */
export const duplicateKeyIndex = (e: unknown): number | null => {
  if (e instanceof MongoBulkWriteError) {
    return writeErrorsOf(e).find((w) => w.code === DUPLICATE_KEY)?.index ?? null;
  }
  return isDuplicateKey(e) ? 0 : null;
};

const writeErrorsOf = (e: MongoBulkWriteError): readonly WriteError[] => {
  const { writeErrors } = e;
  return Array.isArray(writeErrors) ? writeErrors : [writeErrors as WriteError];
};
