import { expect } from "vitest";
import { AppError, type ErrorCode } from "../../src/domain/errors.js";
import type { Page, PageRequest } from "../../src/ports/stores.js";

/** Awaits a promise that must reject with an AppError of `code`, and returns that error. */
export const expectAppError = async (promise: Promise<unknown>, code: ErrorCode): Promise<AppError> => {
  const error = await promise.then(
    () => {
      throw new Error(`expected a rejection with ${code}, but it resolved`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe(code);
  return error as AppError;
};

/**
 * Reads every page of a listing with the given page size, calling `between` after every page but the
 * last; fails on a page that breaks the Page shape (more items than asked for, a cursor per item, only
 * the last page short).
 */
export const readAll = async <T extends { id: string }>(
  list: (page: PageRequest) => Promise<Page<T>>,
  first: number,
  between?: (pageIndex: number) => Promise<void>,
): Promise<T[]> => {
  const all: T[] = [];
  let after: string | undefined;
  for (let pageIndex = 0; pageIndex < 1000; pageIndex++) {
    const page = await list({ first, after });
    expect(page.items.length).toBeLessThanOrEqual(first);
    expect(page.cursors).toHaveLength(page.items.length);
    all.push(...page.items);
    if (!page.hasNextPage) return all;
    expect(page.items.length).toBe(first);
    after = page.cursors.at(-1);
    await between?.(pageIndex);
  }
  throw new Error("pagination did not terminate");
};
