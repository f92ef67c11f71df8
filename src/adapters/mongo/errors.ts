import {
  MongoClientClosedError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerClosedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoSystemError,
  MongoTopologyClosedError,
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
  isSocketError(e);

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

/** True for the server's duplicate-key error (E11000): a unique index or `_id` refused the write. */
export const isDuplicateKey = (e: unknown): boolean => e instanceof MongoServerError && e.code === 11000;
