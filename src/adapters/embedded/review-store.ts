import type { Review } from "../../domain/review.js";
import type { ReviewStore } from "../../ports/reviews.js";
import { insertOrConflict } from "../shared/guard.js";
import {
  databaseOf,
  decodeDoc,
  type EmbeddedOptions,
  encodeDoc,
  guardFor,
  isUniqueViolation,
} from "./sqlite.js";
import type { StoredDoc } from "./sqlite-codec.js";
import { readPage, statementCache } from "./statements.js";

const guard = guardFor("embedded review store");
type Row = { doc: StoredDoc };

/**
 * Reviews on the embedded SQLite database: a JSON document each with indexed columns for tenant,
 * run, agent, state and deadline. A decision reads and writes in one immediate transaction, so only
 * one decision (a person's or the timeout's) ever applies.
 */
export const createEmbeddedReviewStore = async (options: EmbeddedOptions): Promise<ReviewStore> => {
  const { database, release } = await guard(async () => databaseOf(options));
  const { db } = database;
  const sql = statementCache(db);

  const read = (tenantId: string, id: string): Review | null => {
    const row = sql("SELECT doc FROM reviews WHERE id = ? AND tenant_id = ?").get(id, tenantId) as
      | Row
      | undefined;
    return row === undefined ? null : decodeDoc<Review>(row.doc);
  };
  const decide = db.transaction((tenantId: string, id: string, patch: Partial<Review>) => {
    const review = read(tenantId, id);
    if (review === null || review.state !== "PENDING") return null;
    const next: Review = { ...review, ...patch };
    sql("UPDATE reviews SET state = ?, doc = ? WHERE id = ?").run(next.state, encodeDoc(next), id);
    return next;
  });

  return {
    create: (r) =>
      guard(() =>
        insertOrConflict(
          async () =>
            sql(
              "INSERT INTO reviews (id, tenant_id, run_id, agent_id, state, created_at, deadline, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            ).run(
              r.id,
              r.tenantId,
              r.runId,
              r.agentId,
              r.state,
              r.createdAt.getTime(),
              r.deadline.getTime(),
              encodeDoc(r),
            ),
          isUniqueViolation,
          "Review",
          r.id,
        ),
      ),
    get: (tenantId, id) => guard(async () => read(tenantId, id)),
    forAgent: (tenantId, agentId) =>
      guard(async () => {
        const row = sql("SELECT doc FROM reviews WHERE tenant_id = ? AND agent_id = ?").get(
          tenantId,
          agentId,
        ) as Row | undefined;
        return row === undefined ? null : decodeDoc<Review>(row.doc);
      }),
    listByRun: (tenantId, runId) =>
      guard(async () =>
        (
          sql("SELECT doc FROM reviews WHERE tenant_id = ? AND run_id = ? ORDER BY created_at, id").all(
            tenantId,
            runId,
          ) as Row[]
        ).map((r) => decodeDoc<Review>(r.doc)),
      ),
    listPending: (tenantId, page) =>
      guard(async () =>
        readPage<Review>(
          sql,
          {
            table: "reviews",
            where: "tenant_id = ? AND state = ?",
            params: [tenantId, "PENDING"],
            timeColumn: "created_at",
            idColumn: "id",
          },
          page,
          (r) => r.createdAt,
        ),
      ),
    decide: (tenantId, id, patch) => guard(async () => decide.immediate(tenantId, id, patch)),
    // A system operation (the timeout sweep), deliberately not scoped by tenant.
    due: (now, limit) =>
      guard(async () =>
        (
          sql(
            "SELECT doc FROM reviews WHERE state = 'PENDING' AND deadline <= ? ORDER BY deadline LIMIT ?",
          ).all(now.getTime(), limit) as Row[]
        ).map((r) => decodeDoc<Review>(r.doc)),
      ),
    close: () => release(),
  };
};
