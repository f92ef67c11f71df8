import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import nedb from "@seald-io/nedb";
import { AppError, ErrorCode } from "../../domain/errors.js";
import {
  type EvolutionRecord,
  type GenePool,
  normalizeRuleText,
  type OptimizationRule,
  type PoolMember,
  type TenantExperiment,
} from "../../domain/evolution.js";
import type { EvolutionStore } from "../../ports/evolution-store.js";
import type { Page, PageRequest } from "../../ports/stores.js";
import { decodeCursor, encodeCursor } from "../shared/cursor.js";
import { assertTenant, tenantKey } from "../shared/tenant-guard.js";
import { DEFAULT_COMPACTION_INTERVAL_MS } from "./embedded-store.js";

export interface EmbeddedEvolutionStoreOptions {
  /** Folder for the data files (shared with the embedded store); `null` keeps everything in memory. */
  readonly dataDir: string | null;
  /** @default DEFAULT_COMPACTION_INTERVAL_MS (60 s) */
  readonly compactionIntervalMs?: number;
}

// The package is CommonJS with `export default` typings; see embedded-store.ts.
const Datastore = nedb as unknown as typeof nedb.default;
type Datastore<T extends object> = nedb.default<T>;

type Keyed<T> = T & { _id: string };
type MemberDoc = Keyed<PoolMember>;
type PoolDoc = Keyed<GenePool>;
type ExperimentDoc = Keyed<TenantExperiment>;
type RuleDoc = Keyed<OptimizationRule & { key: string }>;
type RecordDoc = Keyed<EvolutionRecord>;

const unavailable = (cause: unknown): AppError =>
  new AppError(ErrorCode.StoreUnavailable, "The embedded evolution store could not complete the operation.", {
    cause,
  });

const guard = async <T>(op: () => Promise<T>): Promise<T> => {
  try {
    return await op();
  } catch (e) {
    throw e instanceof AppError ? e : unavailable(e);
  }
};

const isUniqueViolation = (e: unknown): boolean =>
  typeof e === "object" && e !== null && "errorType" in e && e.errorType === "uniqueViolated";

const strip = <T extends { _id: string }>(doc: T): Omit<T, "_id"> => {
  const { _id, ...rest } = doc;
  return rest;
};

const conflict = (what: string, id: string, cause: unknown) =>
  new AppError(ErrorCode.Conflict, `${what} ${id} already exists.`, { cause, details: { id } });

const insertOrConflict = async <D extends object>(ds: Datastore<D>, doc: D, what: string, id: string) => {
  try {
    await ds.insertAsync(doc);
  } catch (e) {
    throw isUniqueViolation(e) ? conflict(what, id, e) : e;
  }
};

/** One keyset page, newest first on (timeField desc, id desc). */
const findPage = async <D extends { id: string }>(
  ds: Datastore<D>,
  tenantId: string,
  timeField: keyof D & string,
  page: PageRequest,
): Promise<Page<Omit<D, "_id">>> => {
  const q: Record<string, unknown> = { tenantId };
  if (page.after !== undefined) {
    const c = decodeCursor(page.after);
    q.$or = [{ [timeField]: { $lt: c.createdAt } }, { [timeField]: c.createdAt, id: { $lt: c.id } }];
  }
  const docs = (await ds
    .findAsync(q)
    .sort({ [timeField]: -1, id: -1 })
    .limit(page.first + 1)
    .execAsync()) as unknown as Keyed<D>[];
  const items = docs.slice(0, page.first).map((d) => strip(d) as Omit<D, "_id">);
  return {
    items,
    hasNextPage: docs.length > page.first,
    cursors: items.map((i) =>
      encodeCursor({ createdAt: (i as Record<string, unknown>)[timeField] as Date, id: i.id }),
    ),
  };
};

/**
 * The evolution store on @seald-io/nedb, beside the embedded store's files (`evolution-*.db`).
 * Document ids are (tenant, id) pairs, so equal ids of two tenants never collide; rules are unique
 * per (tenantId, normalised text) by a compound unique index.
 */
export const createEmbeddedEvolutionStore = async (
  options: EmbeddedEvolutionStoreOptions,
): Promise<EvolutionStore> => {
  const { dataDir } = options;
  if (dataDir !== null) await mkdir(dataDir, { recursive: true });
  const open = async <D extends object>(name: string): Promise<Datastore<D>> => {
    const ds = new Datastore<D>(
      dataDir === null ? { inMemoryOnly: true } : { filename: join(dataDir, `evolution-${name}.db`) },
    );
    await ds.loadDatabaseAsync();
    ds.setAutocompactionInterval(options.compactionIntervalMs ?? DEFAULT_COMPACTION_INTERVAL_MS);
    return ds;
  };
  const membersDs = await guard(() => open<MemberDoc>("genomes"));
  const poolsDs = await guard(() => open<PoolDoc>("pools"));
  const experimentsDs = await guard(() => open<ExperimentDoc>("experiments"));
  const rulesDs = await guard(() => open<RuleDoc>("rules"));
  const recordsDs = await guard(() => open<RecordDoc>("records"));
  const all = [membersDs, poolsDs, experimentsDs, rulesDs, recordsDs] as Datastore<object>[];
  await guard(async () => {
    for (const ds of all) await ds.ensureIndexAsync({ fieldName: "tenantId" });
    await rulesDs.ensureIndexAsync({ fieldName: ["tenantId", "key"], unique: true });
  });

  let closed = false;
  return {
    pools: {
      load: (tenantId) =>
        guard(async () => {
          const pools = (await poolsDs
            .findAsync({ tenantId })
            .sort({ role: 1 })
            .execAsync()) as unknown as PoolDoc[];
          const members = (await membersDs
            .findAsync({ tenantId })
            .sort({ createdAt: 1, _id: 1 })
            .execAsync()) as unknown as MemberDoc[];
          return { pools: pools.map((d) => strip(d)), members: members.map((d) => strip(d)) };
        }),
      saveMember: (tenantId, member) =>
        guard(async () => {
          assertTenant(tenantId, [member]);
          const _id = tenantKey(tenantId, member.genome.id);
          await membersDs.updateAsync({ _id }, { ...member, _id }, { upsert: true });
        }),
      removeMembers: (tenantId, genomeIds) =>
        guard(async () => {
          if (genomeIds.length === 0) return;
          const keys = genomeIds.map((id) => tenantKey(tenantId, id));
          await membersDs.removeAsync({ _id: { $in: keys }, tenantId }, { multi: true });
        }),
      savePool: (tenantId, pool) =>
        guard(async () => {
          assertTenant(tenantId, [pool]);
          const _id = tenantKey(tenantId, pool.role);
          await poolsDs.updateAsync({ _id }, { ...pool, _id }, { upsert: true });
        }),
    },

    experiments: {
      append: (tenantId, experiments) =>
        guard(async () => {
          assertTenant(tenantId, experiments);
          for (const e of experiments) {
            await insertOrConflict(
              experimentsDs,
              { ...e, _id: tenantKey(tenantId, e.id) },
              "Experiment",
              e.id,
            );
          }
        }),
      oldest: (tenantId, n) =>
        guard(async () => {
          if (n <= 0) return [];
          const docs = (await experimentsDs
            .findAsync({ tenantId })
            .sort({ recordedAt: 1, id: 1 })
            .limit(n)
            .execAsync()) as unknown as ExperimentDoc[];
          return docs.map((d) => strip(d));
        }),
      removeExactly: (tenantId, ids) =>
        guard(async () => {
          if (ids.length === 0) return 0;
          const keys = ids.map((id) => tenantKey(tenantId, id));
          return experimentsDs.removeAsync({ _id: { $in: keys }, tenantId }, { multi: true });
        }),
      list: (tenantId, page) => guard(() => findPage(experimentsDs, tenantId, "recordedAt", page)),
      listAll: (tenantId) =>
        guard(async () => {
          const docs = (await experimentsDs
            .findAsync({ tenantId })
            .sort({ recordedAt: 1, id: 1 })
            .execAsync()) as unknown as ExperimentDoc[];
          return docs.map((d) => strip(d));
        }),
    },

    rules: {
      add: (tenantId, rules) =>
        guard(async () => {
          assertTenant(tenantId, rules);
          const added: OptimizationRule[] = [];
          for (const rule of rules) {
            const doc: RuleDoc = {
              ...rule,
              key: normalizeRuleText(rule.description),
              _id: tenantKey(tenantId, rule.id),
            };
            try {
              await rulesDs.insertAsync(doc);
              added.push(rule);
            } catch (e) {
              if (!isUniqueViolation(e)) throw e;
            }
          }
          return added;
        }),
      list: async (tenantId, page) => {
        const p = await guard(() => findPage(rulesDs, tenantId, "createdAt", page));
        return { ...p, items: p.items.map(({ key, ...rule }) => rule) };
      },
      top: (tenantId, n) =>
        guard(async () => {
          if (n <= 0) return [];
          const docs = (await rulesDs
            .findAsync({ tenantId })
            .sort({ confidence: -1, createdAt: -1, id: -1 })
            .limit(n)
            .execAsync()) as unknown as RuleDoc[];
          return docs.map(({ _id, key, ...rule }) => rule);
        }),
    },

    records: {
      append: (tenantId, record) =>
        guard(async () => {
          assertTenant(tenantId, [record]);
          await insertOrConflict(
            recordsDs,
            { ...record, _id: tenantKey(tenantId, record.id) },
            "Evolution record",
            record.id,
          );
        }),
      list: (tenantId, page) => guard(() => findPage(recordsDs, tenantId, "at", page)),
    },

    close: async () => {
      if (closed) return;
      closed = true;
      for (const ds of all) {
        ds.stopAutocompaction();
        if (dataDir !== null) await ds.compactDatafileAsync();
      }
    },
  };
};
