import type { EvolutionRecord, GenePool, PoolMember, TenantExperiment } from "../../domain/evolution.js";
import type { EvolutionStore } from "../../ports/evolution-store.js";
import type { Page, PageRequest } from "../../ports/stores.js";
import { afterCursor, toPage } from "../shared/cursor.js";
import { strip } from "../shared/documents.js";
import { addNewRules, type RuleDoc } from "../shared/evolution-records.js";
import { guardFor, insertOrConflict } from "../shared/guard.js";
import { assertTenant, tenantKey } from "../shared/tenant-guard.js";
import { type Datastore, isUniqueViolation, type NedbOptions, openNedbFiles } from "./nedb.js";

/** The data files' folder is shared with the embedded store (`evolution-<collection>.db`). */
export type EmbeddedEvolutionStoreOptions = NedbOptions;

type Keyed<T> = T & { _id: string };
type MemberDoc = Keyed<PoolMember>;
type PoolDoc = Keyed<GenePool>;
type ExperimentDoc = Keyed<TenantExperiment>;
type RecordDoc = Keyed<EvolutionRecord>;

const guard = guardFor("embedded evolution store");

/** One keyset page, newest first on (timeField desc, id desc). */
const findPage = async <D extends { id: string }>(
  ds: Datastore<D>,
  tenantId: string,
  timeField: keyof D & string,
  page: PageRequest,
): Promise<Page<Omit<D, "_id">>> => {
  const q: Record<string, unknown> = { tenantId };
  if (page.after !== undefined) q.$or = afterCursor(page.after, timeField, "id");
  const docs = (await ds
    .findAsync(q)
    .sort({ [timeField]: -1, id: -1 })
    .limit(page.first + 1)
    .execAsync()) as unknown as Keyed<D>[];
  return toPage(
    docs,
    page.first,
    (d) => strip(d) as Omit<D, "_id">,
    (i) => ({ createdAt: (i as Record<string, unknown>)[timeField] as Date, id: i.id }),
  );
};

/**
 * The evolution store on @seald-io/nedb, beside the embedded store's files (`evolution-*.db`).
 * Document ids are (tenant, id) pairs, so equal ids of two tenants never collide; rules are unique
 * per (tenantId, normalised text) by a compound unique index.
 */
export const createEmbeddedEvolutionStore = async (
  options: EmbeddedEvolutionStoreOptions,
): Promise<EvolutionStore> => {
  const files = await openNedbFiles(options, "evolution-");
  const membersDs = await guard(() => files.open<MemberDoc>("genomes"));
  const poolsDs = await guard(() => files.open<PoolDoc>("pools"));
  const experimentsDs = await guard(() => files.open<ExperimentDoc>("experiments"));
  const rulesDs = await guard(() => files.open<RuleDoc>("rules"));
  const recordsDs = await guard(() => files.open<RecordDoc>("records"));
  await guard(async () => {
    for (const ds of [membersDs, poolsDs, experimentsDs, rulesDs, recordsDs] as Datastore<object>[]) {
      await ds.ensureIndexAsync({ fieldName: "tenantId" });
    }
    await rulesDs.ensureIndexAsync({ fieldName: ["tenantId", "key"], unique: true });
  });

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
      swapPool: (tenantId, pool, expected) =>
        guard(async () => {
          assertTenant(tenantId, [pool]);
          const _id = tenantKey(tenantId, pool.role);
          const { numAffected } = await poolsDs.updateAsync({ _id, evolutions: expected }, { ...pool, _id });
          if (numAffected === 1 || expected !== 0) return numAffected === 1;
          // No pointer yet: the first writer's insert wins, a second one hits the unique _id.
          return poolsDs.insertAsync({ ...pool, _id }).then(
            () => true,
            (e: unknown) => {
              if (isUniqueViolation(e)) return false;
              throw e;
            },
          );
        }),
    },

    experiments: {
      append: (tenantId, experiments) =>
        guard(async () => {
          assertTenant(tenantId, experiments);
          for (const e of experiments) {
            const doc = { ...e, _id: tenantKey(tenantId, e.id) };
            await insertOrConflict(
              () => experimentsDs.insertAsync(doc),
              isUniqueViolation,
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
        guard(() => addNewRules(tenantId, rules, (doc) => rulesDs.insertAsync(doc), isUniqueViolation)),
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
          const doc = { ...record, _id: tenantKey(tenantId, record.id) };
          await insertOrConflict(
            () => recordsDs.insertAsync(doc),
            isUniqueViolation,
            "Evolution record",
            record.id,
          );
        }),
      list: (tenantId, page) => guard(() => findPage(recordsDs, tenantId, "at", page)),
    },

    close: files.close,
  };
};
