import { AppError, ErrorCode } from "../../domain/errors.js";
import type { RunEvent } from "../../domain/events.js";

/** STORE_UNAVAILABLE for an operation of `what` ("embedded store", "MongoDB anchor") that failed with `cause`. */
export const unavailable = (what: string, cause: unknown): AppError =>
  new AppError(ErrorCode.StoreUnavailable, `The ${what} could not complete the operation.`, { cause });

/**
 * The guard of `what`'s operations: an AppError leaves as it is, anything else (a file-system or driver
 * failure) as STORE_UNAVAILABLE with the failure as its cause.
 */
export const guardFor =
  (what: string) =>
  async <T>(op: () => Promise<T>): Promise<T> => {
    try {
      return await op();
    } catch (e) {
      throw e instanceof AppError ? e : unavailable(what, e);
    }
  };

/** NOT_FOUND for an update of a record that is missing (or another tenant's): the same on every store. */
export const notFound = (kind: string, id: string): AppError =>
  new AppError(ErrorCode.NotFound, `${kind} ${id} not found.`, { details: { id } });

/**
 * Runs an insert; a duplicate key (as `isDuplicate` recognises it) rejects as CONFLICT
 * "`what` `id` already exists." with the id in the details.
 */
export const insertOrConflict = async (
  insert: () => Promise<unknown>,
  isDuplicate: (e: unknown) => boolean,
  what: string,
  id: string,
): Promise<void> => {
  try {
    await insert();
  } catch (e) {
    throw isDuplicate(e) ? conflict(what, id, e) : e;
  }
};

/** CONFLICT "`what` `id` already exists." with the id in the details: the same on every store. */
export const conflict = (what: string, id: string, cause?: unknown): AppError =>
  new AppError(ErrorCode.Conflict, `${what} ${id} already exists.`, { cause, details: { id } });

/**
 * Runs an insert; resolves true when it inserted and false when the key existed already (a duplicate
 * key, as `isDuplicate` recognises it). Any other failure rejects.
 */
export const insertUnlessDuplicate = async (
  insert: () => Promise<unknown>,
  isDuplicate: (e: unknown) => boolean,
): Promise<boolean> => {
  try {
    await insert();
    return true;
  } catch (e) {
    if (!isDuplicate(e)) throw e;
    return false;
  }
};

/**
 * Runs the insert of a batch of run events; when the store refuses one as a duplicate (runId, seq)
 * (`duplicateAt` gives its position in the batch, null for any other failure) rejects as CONFLICT
 * "Event `seq` of run `runId` already exists." with both in the details — the same on every store.
 */
export const insertEventsOrConflict = async (
  batch: readonly RunEvent[],
  insert: () => Promise<unknown>,
  duplicateAt: (e: unknown) => number | null,
): Promise<void> => {
  try {
    await insert();
  } catch (e) {
    const at = duplicateAt(e);
    const refused = at === null ? undefined : batch[at];
    if (refused === undefined) throw e;
    const { runId, seq } = refused;
    throw new AppError(ErrorCode.Conflict, `Event ${seq} of run ${runId} already exists.`, {
      cause: e,
      details: { runId, seq },
    });
  }
};
