import type { Collection, Db, Filter, IndexDescription } from "mongodb";
import type { EvolutionRecord, GenePool, PoolMember, TenantExperiment } from "../../domain/evolution.js";
import type { EvolutionStore } from "../../ports/evolution-store.js";
import type { Page, PageRequest } from "../../ports/stores.js";
import { afterCursor, assertPageSize, toPage } from "../shared/cursor.js";
import { strip } from "../shared/documents.js";
import { addNewRules, type RuleDoc } from "../shared/evolution-records.js";
import { insertOrConflict } from "../shared/guard.js";
import { assertTenant, tenantKey } from "../shared/tenant-guard.js";
import { ensureCollectionIndexes } from "./collections.js";
import { guard, isDuplicateKey } from "./errors.js";
import type { MongoStoreOptions } from "./mongo-store.js";

/** Collections of the evolution store. Document `_id`s are (tenant, id) pairs (see `tenantKey`). */
export const EVOLUTION_COLLECTIONS = {
  genomes: "genomes",
  genePools: "gene_pools",
  experiments: "experiments",
  rules: "rules",
  records: "evolution_records",
  /** One document per pointer version taken (see swapPool): an insert is atomic on every server. */
  poolVersions: "gene_pool_versions",
} as const;

type Keyed<T> = T & { _id: string };
export type GenomeMemberDoc = Keyed<PoolMember>;
export type GenePoolDoc = Keyed<GenePool>;
export type ExperimentDoc = Keyed<TenantExperiment>;
/** `key` is the rule's normalised text, unique per tenant. */
export type { RuleDoc } from "../shared/evolution-records.js";
export type EvolutionRecordDoc = Keyed<EvolutionRecord>;

/** Every query of the evolution store is served by one of these (all lead with tenantId). */
export const EVOLUTION_INDEXES: Readonly<
  Record<keyof typeof EVOLUTION_COLLECTIONS, readonly IndexDescription[]>
> = {
  genomes: [{ key: { tenantId: 1, createdAt: 1, _id: 1 } }],
  genePools: [{ key: { tenantId: 1, role: 1 } }],
  poolVersions: [{ key: { tenantId: 1 } }],
  experiments: [{ key: { tenantId: 1, recordedAt: -1, id: -1 } }],
  rules: [
    { key: { tenantId: 1, key: 1 }, unique: true },
    { key: { tenantId: 1, createdAt: -1, id: -1 } },
    { key: { tenantId: 1, confidence: -1, createdAt: -1, id: -1 } },
  ],
  records: [{ key: { tenantId: 1, at: -1, id: -1 } }],
};

/** Creates the evolution collections' indexes; idempotent, so it is safe on every start. */
export const ensureEvolutionIndexes = (db: Db): Promise<void> =>
  ensureCollectionIndexes(db, EVOLUTION_COLLECTIONS, EVOLUTION_INDEXES);

export type MongoEvolutionStoreOptions = MongoStoreOptions;

/** One keyset page, newest first on (timeField desc, id desc). */
const findPage = async <D extends { _id: string; id: string; tenantId: string }>(
  collection: Collection<D>,
  tenantId: string,
  timeField: keyof D & string,
  page: PageRequest,
): Promise<Page<Omit<D, "_id">>> => {
  assertPageSize(page.first);
  const filter: Record<string, unknown> = { tenantId };
  if (page.after !== undefined) filter.$or = afterCursor(page.after, timeField, "id");
  const docs = (await collection
    .find(filter as Filter<D>)
    .sort({ [timeField]: -1, id: -1 })
    .limit(page.first + 1)
    .toArray()) as D[];
  return toPage(
    docs,
    page.first,
    (d) => strip(d),
    (i) => ({ createdAt: (i as Record<string, unknown>)[timeField] as Date, id: i.id }),
  );
};

/**
 * The evolution store on MongoDB (and FerretDB v1): single-document writes and plain finds only.
 * Indexes are not created here: call `ensureEvolutionIndexes` at startup. Failures reject with AppError
 * (STORE_UNAVAILABLE when the server cannot be reached, CONFLICT for a duplicate id).
 */
export const createMongoEvolutionStore = (options: MongoEvolutionStoreOptions): EvolutionStore => {
  const { client, dbName, ownsClient = false } = options;
  const db = client.db(dbName);
  const members = db.collection<GenomeMemberDoc>(EVOLUTION_COLLECTIONS.genomes);
  const pools = db.collection<GenePoolDoc>(EVOLUTION_COLLECTIONS.genePools);
  const experiments = db.collection<ExperimentDoc>(EVOLUTION_COLLECTIONS.experiments);
  const rules = db.collection<RuleDoc>(EVOLUTION_COLLECTIONS.rules);
  const records = db.collection<EvolutionRecordDoc>(EVOLUTION_COLLECTIONS.records);
  const poolVersions = db.collection<{ _id: string; tenantId: string; at: Date }>(
    EVOLUTION_COLLECTIONS.poolVersions,
  );

  return {
    pools: {
      load: (tenantId) =>
        guard(async () => {
          const p = await pools.find({ tenantId }).sort({ role: 1 }).toArray();
          const m = await members.find({ tenantId }).sort({ createdAt: 1, _id: 1 }).toArray();
          return { pools: p.map((d) => strip(d)), members: m.map((d) => strip(d)) };
        }),
      saveMember: (tenantId, member) =>
        guard(async () => {
          assertTenant(tenantId, [member]);
          const _id = tenantKey(tenantId, member.genome.id);
          await members.replaceOne({ _id }, { ...member }, { upsert: true });
        }),
      removeMembers: (tenantId, genomeIds) =>
        guard(async () => {
          if (genomeIds.length === 0) return;
          await members.deleteMany({
            tenantId,
            _id: { $in: genomeIds.map((id) => tenantKey(tenantId, id)) },
          });
        }),
      savePool: (tenantId, pool) =>
        guard(async () => {
          assertTenant(tenantId, [pool]);
          const _id = tenantKey(tenantId, pool.role);
          await pools.replaceOne({ _id }, { ...pool }, { upsert: true });
        }),
      swapPool: (tenantId, pool, expected) =>
        guard(async () => {
          assertTenant(tenantId, [pool]);
          const _id = tenantKey(tenantId, pool.role);
          // Writers from one version race to insert the next version's claim; only one insert succeeds
          // (a filtered replace alone is not atomic on every server this store supports).
          const claim = { _id: `${_id}:${expected}`, tenantId, at: pool.updatedAt };
          const claimed = await poolVersions.insertOne(claim).then(
            () => true,
            (e: unknown) => {
              if (isDuplicateKey(e)) return false;
              throw e;
            },
          );
          if (!claimed) return false;
          // Pointers moved without claims (by savePool) are caught here: the stored version must match.
          if (expected === 0) {
            const stored = await pools.findOne({ _id });
            if (stored !== null && stored.evolutions !== 0) return false;
            await pools.replaceOne({ _id }, { ...pool }, { upsert: true });
            return true;
          }
          const { matchedCount } = await pools.replaceOne({ _id, evolutions: expected }, { ...pool });
          return matchedCount === 1;
        }),
    },

    experiments: {
      append: (tenantId, list) =>
        guard(async () => {
          assertTenant(tenantId, list);
          for (const e of list) {
            const doc = { ...e, _id: tenantKey(tenantId, e.id) };
            await insertOrConflict(() => experiments.insertOne(doc), isDuplicateKey, "Experiment", e.id);
          }
        }),
      oldest: (tenantId, n) =>
        guard(async () => {
          if (n <= 0) return [];
          const docs = await experiments.find({ tenantId }).sort({ recordedAt: 1, id: 1 }).limit(n).toArray();
          return docs.map((d) => strip(d));
        }),
      removeExactly: (tenantId, ids) =>
        guard(async () => {
          if (ids.length === 0) return 0;
          const keys = ids.map((id) => tenantKey(tenantId, id));
          return (await experiments.deleteMany({ tenantId, _id: { $in: keys } })).deletedCount;
        }),
      list: (tenantId, page) => guard(() => findPage(experiments, tenantId, "recordedAt", page)),
      listAll: (tenantId) =>
        guard(async () => {
          const docs = await experiments.find({ tenantId }).sort({ recordedAt: 1, id: 1 }).toArray();
          return docs.map((d) => strip(d));
        }),
    },

    rules: {
      add: (tenantId, list) =>
        guard(() => addNewRules(tenantId, list, (doc) => rules.insertOne(doc), isDuplicateKey)),
      list: (tenantId, page) =>
        guard(async () => {
          const p = await findPage(rules, tenantId, "createdAt", page);
          return { ...p, items: p.items.map(({ key, ...rule }) => rule) };
        }),
      top: (tenantId, n) =>
        guard(async () => {
          if (n <= 0) return [];
          const docs = await rules
            .find({ tenantId })
            .sort({ confidence: -1, createdAt: -1, id: -1 })
            .limit(n)
            .toArray();
          return docs.map(({ _id, key, ...rule }) => rule);
        }),
    },

    records: {
      append: (tenantId, record) =>
        guard(async () => {
          assertTenant(tenantId, [record]);
          const doc = { ...record, _id: tenantKey(tenantId, record.id) };
          await insertOrConflict(() => records.insertOne(doc), isDuplicateKey, "Evolution record", record.id);
        }),
      list: (tenantId, page) => guard(() => findPage(records, tenantId, "at", page)),
    },

    close: async () => {
      if (ownsClient) await client.close();
    },
  };
};
