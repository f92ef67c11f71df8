import {
  absentMember,
  type EvolutionRecord,
  type FitnessObservation,
  type GenePool,
  normalizeRuleText,
  type OptimizationRule,
  observationsByGenome,
  type PoolMember,
  type TenantExperiment,
  withObservations,
} from "../../domain/evolution.js";
import type { EvolutionStore } from "../../ports/evolution-store.js";
import { conflict } from "../shared/guard.js";
import { assertTenant } from "../shared/tenant-guard.js";
import {
  databaseOf,
  decodeDoc,
  type EmbeddedOptions,
  encodeDoc,
  guardFor,
  isUniqueViolation,
} from "./sqlite.js";
import type { StoredDoc } from "./sqlite-codec.js";
import { placeholders, readPage, statementCache } from "./statements.js";

export type { EmbeddedOptions as EmbeddedEvolutionStoreOptions } from "./sqlite.js";

const guard = guardFor("embedded evolution store");

type Row = { doc: StoredDoc };
const docs = <T>(rows: readonly unknown[]): T[] => (rows as Row[]).map((r) => decodeDoc<T>(r.doc));

/**
 * The evolution store on the embedded SQLite database (see sqlite.ts). Every table's key starts with
 * the tenant id, so equal ids of two tenants never collide; rules are unique per (tenant, normalised
 * text) by a unique index.
 */
export const createEmbeddedEvolutionStore = async (options: EmbeddedOptions): Promise<EvolutionStore> => {
  const { database, release } = await guard(() => databaseOf(options));
  const { db } = database;
  const sql = statementCache(db);

  const insertExperiments = db.transaction((tenantId: string, experiments: readonly TenantExperiment[]) => {
    for (const e of experiments) {
      insertOrConflictSync(
        () =>
          sql("INSERT INTO evolution_experiments (tenant_id, id, recorded_at, doc) VALUES (?, ?, ?, ?)").run(
            tenantId,
            e.id,
            e.recordedAt.getTime(),
            encodeDoc(e),
          ),
        "Experiment",
        e.id,
      );
    }
  });
  const removeExperiments = db.transaction((tenantId: string, ids: readonly string[]) => {
    const remove = sql("DELETE FROM evolution_experiments WHERE tenant_id = ? AND id = ?");
    let removed = 0;
    for (const id of new Set(ids)) removed += remove.run(tenantId, id).changes;
    return removed;
  });
  const addRules = db.transaction((tenantId: string, rules: readonly OptimizationRule[]) => {
    const insert = sql(
      `INSERT INTO evolution_rules (tenant_id, id, key, confidence, created_at, doc) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING`,
    );
    return rules.filter(
      (rule) =>
        insert.run(
          tenantId,
          rule.id,
          normalizeRuleText(rule.description),
          rule.confidence,
          rule.createdAt.getTime(),
          encodeDoc(rule),
        ).changes > 0,
    );
  });

  const upsertMember = (tenantId: string, member: PoolMember) =>
    sql(
      `INSERT INTO evolution_members (tenant_id, genome_id, created_at, doc) VALUES (?, ?, ?, ?)
       ON CONFLICT (tenant_id, genome_id) DO UPDATE SET created_at = excluded.created_at, doc = excluded.doc`,
    ).run(tenantId, member.genome.id, member.createdAt.getTime(), encodeDoc(member, "rewritten"));

  /** Each genome's read, update and write in one transaction: no other writer comes between them. */
  const addFitness = db.transaction((tenantId: string, observations: readonly FitnessObservation[]) => {
    const changed: PoolMember[] = [];
    for (const [genomeId, own] of observationsByGenome(observations)) {
      const row = sql("SELECT doc FROM evolution_members WHERE tenant_id = ? AND genome_id = ?").get(
        tenantId,
        genomeId,
      ) as Row | undefined;
      const first = own[0] as FitnessObservation;
      if (row === undefined && !first.addIfAbsent) continue;
      const member = row === undefined ? absentMember(tenantId, first) : decodeDoc<PoolMember>(row.doc);
      const next = { ...member, stats: withObservations(member.stats, own) };
      upsertMember(tenantId, next);
      changed.push(next);
    }
    return changed;
  });

  /** Replaces a role's pool pointer only if it is still at `expected` evolutions (0: none stored yet). */
  const swapPool = db.transaction((tenantId: string, pool: GenePool, expected: number) => {
    const row = sql("SELECT doc FROM evolution_pools WHERE tenant_id = ? AND role = ?").get(
      tenantId,
      pool.role,
    ) as Row | undefined;
    const current = row === undefined ? 0 : decodeDoc<GenePool>(row.doc).evolutions;
    if (current !== expected) return false;
    sql(
      `INSERT INTO evolution_pools (tenant_id, role, doc) VALUES (?, ?, ?)
       ON CONFLICT (tenant_id, role) DO UPDATE SET doc = excluded.doc`,
    ).run(tenantId, pool.role, encodeDoc(pool));
    return true;
  });

  return {
    pools: {
      load: (tenantId) =>
        guard(() => ({
          pools: docs<GenePool>(
            sql("SELECT doc FROM evolution_pools WHERE tenant_id = ? ORDER BY role").all(tenantId),
          ),
          members: docs<PoolMember>(
            sql("SELECT doc FROM evolution_members WHERE tenant_id = ? ORDER BY created_at, genome_id").all(
              tenantId,
            ),
          ),
        })),
      saveMember: (tenantId, member) =>
        guard(() => {
          assertTenant(tenantId, [member]);
          upsertMember(tenantId, member);
        }),
      addFitness: (tenantId, observations) => guard(() => addFitness.immediate(tenantId, observations)),
      removeMembers: (tenantId, genomeIds) =>
        guard(() => {
          if (genomeIds.length === 0) return;
          sql(
            `DELETE FROM evolution_members WHERE tenant_id = ? AND genome_id IN (${placeholders(genomeIds.length)})`,
          ).run(tenantId, ...genomeIds);
        }),
      savePool: (tenantId, pool) =>
        guard(() => {
          assertTenant(tenantId, [pool]);
          sql(
            `INSERT INTO evolution_pools (tenant_id, role, doc) VALUES (?, ?, ?)
             ON CONFLICT (tenant_id, role) DO UPDATE SET doc = excluded.doc`,
          ).run(tenantId, pool.role, encodeDoc(pool));
        }),
      swapPool: (tenantId, pool, expected) =>
        guard(() => {
          assertTenant(tenantId, [pool]);
          return swapPool.immediate(tenantId, pool, expected);
        }),
    },

    experiments: {
      append: (tenantId, experiments) =>
        guard(() => {
          assertTenant(tenantId, experiments);
          insertExperiments.immediate(tenantId, experiments);
        }),
      oldest: (tenantId, n) =>
        guard(() => {
          if (n <= 0) return [];
          return docs<TenantExperiment>(
            sql(
              "SELECT doc FROM evolution_experiments WHERE tenant_id = ? ORDER BY recorded_at, id LIMIT ?",
            ).all(tenantId, n),
          );
        }),
      removeExactly: (tenantId, ids) =>
        guard(() => (ids.length === 0 ? 0 : removeExperiments.immediate(tenantId, ids))),
      list: (tenantId, page) =>
        guard(() =>
          readPage<TenantExperiment>(
            sql,
            {
              table: "evolution_experiments",
              where: "tenant_id = ?",
              params: [tenantId],
              timeColumn: "recorded_at",
              idColumn: "id",
            },
            page,
            (e) => e.recordedAt,
          ),
        ),
      listAll: (tenantId) =>
        guard(() =>
          docs<TenantExperiment>(
            sql("SELECT doc FROM evolution_experiments WHERE tenant_id = ? ORDER BY recorded_at, id").all(
              tenantId,
            ),
          ),
        ),
    },

    rules: {
      add: (tenantId, rules) =>
        guard(() => {
          assertTenant(tenantId, rules);
          return addRules.immediate(tenantId, rules);
        }),
      list: (tenantId, page) =>
        guard(() =>
          readPage<OptimizationRule>(
            sql,
            {
              table: "evolution_rules",
              where: "tenant_id = ?",
              params: [tenantId],
              timeColumn: "created_at",
              idColumn: "id",
            },
            page,
            (r) => r.createdAt,
          ),
        ),
      top: (tenantId, n) =>
        guard(() => {
          if (n <= 0) return [];
          return docs<OptimizationRule>(
            sql(
              `SELECT doc FROM evolution_rules WHERE tenant_id = ?
               ORDER BY confidence DESC, created_at DESC, id DESC LIMIT ?`,
            ).all(tenantId, n),
          );
        }),
    },

    records: {
      append: (tenantId, record) =>
        guard(() => {
          assertTenant(tenantId, [record]);
          insertOrConflictSync(
            () =>
              sql("INSERT INTO evolution_records (tenant_id, id, at, doc) VALUES (?, ?, ?, ?)").run(
                tenantId,
                record.id,
                record.at.getTime(),
                encodeDoc(record),
              ),
            "Evolution record",
            record.id,
          );
        }),
      list: (tenantId, page) =>
        guard(() =>
          readPage<EvolutionRecord>(
            sql,
            {
              table: "evolution_records",
              where: "tenant_id = ?",
              params: [tenantId],
              timeColumn: "at",
              idColumn: "id",
            },
            page,
            (r) => r.at,
          ),
        ),
    },

    close: () => release(),
  };
};

/** Runs a synchronous insert (inside a transaction); a duplicate key becomes CONFLICT. */
const insertOrConflictSync = (insert: () => unknown, what: string, id: string): void => {
  try {
    insert();
  } catch (e) {
    throw isUniqueViolation(e) ? conflict(what, id, e) : e;
  }
};
