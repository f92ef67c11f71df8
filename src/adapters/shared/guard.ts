import { AppError, ErrorCode } from "../../domain/errors.js";

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
    if (isDuplicate(e)) {
      throw new AppError(ErrorCode.Conflict, `${what} ${id} already exists.`, { cause: e, details: { id } });
    }
    throw e;
  }
};

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
