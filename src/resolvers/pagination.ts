import { badInput } from "../domain/errors.js";
import type { Page, PageRequest } from "../ports/stores.js";

/** Page size when `first` is omitted, and the most one page may hold. */
const DEFAULT_PAGE_SIZE = 20;
const MAX_PAGE_SIZE = 100;

export const pageRequest = (
  first: number | null | undefined,
  after: string | null | undefined,
): PageRequest => {
  const size = first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw badInput(`first must be from 1 to ${MAX_PAGE_SIZE}; got ${size}.`, { argument: "first" });
  }
  return { first: size, after: after ?? undefined };
};

/** A store page as a Relay connection. */
export const toConnection = <T, V>(page: Page<T>, view: (item: T) => V) => ({
  edges: page.items.map((item, i) => ({ cursor: page.cursors[i] as string, node: view(item) })),
  pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.cursors.at(-1) ?? null },
});
