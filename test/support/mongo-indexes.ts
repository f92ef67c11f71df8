import type { Db, IndexDescription } from "mongodb";
import { expect } from "vitest";

/**
 * Asserts that `collection` has exactly the `_id` index and `expected` (by key, in any order), and that
 * the unique ones are exactly the expected unique ones, in order.
 */
export const expectIndexes = async (
  db: Db,
  collection: string,
  expected: readonly IndexDescription[],
): Promise<void> => {
  const listed = await db.collection(collection).listIndexes().toArray();
  const keys = listed.map((ix) =>
    Object.entries(ix.key as Record<string, unknown>).map(([k, v]) => [k, Number(v)]),
  );
  expect(keys).toContainEqual([["_id", 1]]);
  for (const ix of expected) expect(keys).toContainEqual(Object.entries(ix.key));
  expect(listed).toHaveLength(expected.length + 1);
  const unique = listed.filter((ix) => ix.unique === true).map((ix) => Object.keys(ix.key as object));
  expect(unique).toStrictEqual(expected.filter((ix) => ix.unique).map((ix) => Object.keys(ix.key)));
};
