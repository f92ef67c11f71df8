import { AppError, badInput, ErrorCode } from "../../domain/errors.js";
import type { Page } from "../../ports/stores.js";

/** Position of a record in a newest-first listing ordered by (createdAt desc, id desc). */
export interface Cursor {
  readonly createdAt: Date;
  readonly id: string;
}

/** Opaque to clients: base64url of {t: epoch ms, id}. */
export const encodeCursor = (c: Cursor): string =>
  Buffer.from(JSON.stringify({ t: c.createdAt.getTime(), id: c.id }), "utf8").toString("base64url");

export const decodeCursor = (raw: string): Cursor => {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
  } catch {
    value = undefined;
  }
  if (
    typeof value === "object" &&
    value !== null &&
    "t" in value &&
    "id" in value &&
    typeof value.t === "number" &&
    Number.isFinite(value.t) &&
    typeof value.id === "string" &&
    value.id.length > 0
  ) {
    return { createdAt: new Date(value.t), id: value.id };
  }
  throw new AppError(
    ErrorCode.BadUserInput,
    "Invalid pagination cursor: pass an endCursor from a previous page.",
    {
      details: { argument: "after" },
    },
  );
};

/**
 * The `$or` clause that continues a newest-first listing on (`timeField` desc, `idField` desc) after
 * `after`; rejects a malformed cursor with BAD_USER_INPUT.
 */
export const afterCursor = (after: string, timeField: string, idField: string): Record<string, unknown>[] => {
  const c = decodeCursor(after);
  return [{ [timeField]: { $lt: c.createdAt } }, { [timeField]: c.createdAt, [idField]: { $lt: c.id } }];
};

/** Rejects a page size that is not a non-negative integer with BAD_USER_INPUT. */
export const assertPageSize = (first: number): void => {
  if (!Number.isInteger(first) || first < 0) {
    throw badInput(`first must be a non-negative integer; got ${first}.`, { argument: "first" });
  }
};

/**
 * A page from the documents read for it (up to `first + 1`: one more than the page tells that there is
 * a next page), each turned into its item, with a cursor per item.
 */
export const toPage = <D, T>(
  docs: readonly D[],
  first: number,
  toItem: (doc: D) => T,
  cursorOf: (item: T) => Cursor,
): Page<T> => {
  const items = docs.slice(0, first).map(toItem);
  return {
    items,
    hasNextPage: docs.length > first,
    cursors: items.map((item) => encodeCursor(cursorOf(item))),
  };
};
