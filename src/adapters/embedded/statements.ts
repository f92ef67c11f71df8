import type Database from "better-sqlite3";
import type { Page, PageRequest } from "../../ports/stores.js";
import { assertPageSize, decodeCursor, toPage } from "../shared/cursor.js";
import { decodeDoc } from "./sqlite.js";
import type { StoredDoc } from "./sqlite-codec.js";

/** Prepared statements of one connection, prepared once per SQL text. */
export const statementCache = (db: Database.Database) => {
  const cache = new Map<string, Database.Statement>();
  return (sql: string): Database.Statement => {
    let stmt = cache.get(sql);
    if (stmt === undefined) {
      stmt = db.prepare(sql);
      cache.set(sql, stmt);
    }
    return stmt;
  };
};

export type Statements = ReturnType<typeof statementCache>;

/** A keyset page of the table's documents ordered by (time column desc, id column desc). */
export interface PageQuery {
  readonly table: string;
  /** Conditions with `?` placeholders, ANDed. */
  readonly where: string;
  readonly params: readonly unknown[];
  readonly timeColumn: string;
  readonly idColumn: string;
  /** The columns read, and how a row becomes an item. @default the `doc` column, decoded */
  readonly columns?: string;
  readonly decode?: (row: never) => unknown;
}

/**
 * One page, newest first, read with a single indexed range scan: the row value comparison continues
 * after the cursor's (time, id) and the index on (…, time desc, id desc) gives the order.
 */
export const readPage = <T extends { id: string }>(
  sql: Statements,
  q: PageQuery,
  page: PageRequest,
  timeOf: (item: T) => Date,
): Page<T> => {
  assertPageSize(page.first);
  const params = [...q.params];
  let where = q.where;
  if (page.after !== undefined) {
    const c = decodeCursor(page.after);
    where += ` AND (${q.timeColumn}, ${q.idColumn}) < (?, ?)`;
    params.push(c.createdAt.getTime(), c.id);
  }
  const rows = sql(
    `SELECT ${q.columns ?? "doc"} FROM ${q.table} WHERE ${where} ORDER BY ${q.timeColumn} DESC, ${q.idColumn} DESC LIMIT ?`,
  ).all(...params, page.first + 1) as { doc: StoredDoc }[];
  const decode = (q.decode as ((row: { doc: StoredDoc }) => T) | undefined) ?? ((r) => decodeDoc<T>(r.doc));
  return toPage(rows, page.first, decode, (item) => ({ createdAt: timeOf(item), id: item.id }));
};

/** `?, ?, …` for an IN list of n values. */
export const placeholders = (n: number): string => Array.from({ length: n }, () => "?").join(", ");
