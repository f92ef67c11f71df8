import {
  type Collection,
  type Db,
  type Filter,
  type IndexDescription,
  type MongoClient,
  MongoServerError,
} from "mongodb";
import { AppError, badInput, ErrorCode } from "../../domain/errors.js";
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
import { toAppError } from "./mongo-store.js";

/** Collections of the evolution store. Document `_id`s are (tenant, id) pairs (see `tenantKey`). */
export const EVOLUTION_COLLECTIONS = {
  genomes: "genomes",
  genePools: "gene_pools",
  experiments: "experiments",
  rules: "rules",
  records: "evolution_records",
} as const;

type Keyed<T> = T & { _id: string };
export type GenomeMemberDoc = Keyed<PoolMember>;
export type GenePoolDoc = Keyed<GenePool>;
export type ExperimentDoc = Keyed<TenantExperiment>;
/** `key` is the rule's normalised text, unique per tenant. */
export type RuleDoc = Keyed<OptimizationRule & { key: string }>;
export type EvolutionRecordDoc = Keyed<EvolutionRecord>;

/** Every query of the evolution store is served by one of these (all lead with tenantId). */
export const EVOLUTION_INDEXES: Readonly<
  Record<keyof typeof EVOLUTION_COLLECTIONS, readonly IndexDescription[]>
> = {
  genomes: [{ key: { tenantId: 1, createdAt: 1, _id: 1 } }],
  genePools: [{ key: { tenantId: 1, role: 1 } }],
  experiments: [{ key: { tenantId: 1, recordedAt: -1, id: -1 } }],
  rules: [
    { key: { tenantId: 1, key: 1 }, unique: true },
    { key: { tenantId: 1, createdAt: -1, id: -1 } },
    { key: { tenantId: 1, confidence: -1, createdAt: -1, id: -1 } },
  ],
  records: [{ key: { tenantId: 1, at: -1, id: -1 } }],
};

/** Creates the evolution collections' indexes; idempotent, so it is safe on every start. */
export const ensureEvolutionIndexes = async (db: Db): Promise<void> => {
  for (const [name, indexes] of Object.entries(EVOLUTION_INDEXES)) {
    const collection = EVOLUTION_COLLECTIONS[name as keyof typeof EVOLUTION_COLLECTIONS];
    // One index per command: FerretDB v1.24 fails a createIndexes naming several existing indexes.
    for (const index of indexes) await db.collection(collection).createIndexes([index]);
  }
};

export interface MongoEvolutionStoreOptions {
  /** A client built by the caller; it connects lazily. */
  readonly client: MongoClient;
  readonly dbName: string;
  /** When true, `close()` closes the client too. @default false */
  readonly ownsClient?: boolean;
}

const strip = <T extends { _id: string }>(doc: T): Omit<T, "_id"> => {
  const { _id, ...rest } = doc;
  return rest;
};

const guard = async <T>(op: () => Promise<T>): Promise<T> => {
  try {
    return await op();
  } catch (e) {
    throw toAppError(e);
  }
};

const isDuplicateKey = (e: unknown): boolean => e instanceof MongoServerError && e.code === 11000;

/** One keyset page, newest first on (timeField desc, id desc). */
const findPage = async <D extends { _id: string; id: string; tenantId: string }>(
  collection: Collection<D>,
  tenantId: string,
  timeField: keyof D & string,
  page: PageRequest,
): Promise<Page<Omit<D, "_id">>> => {
  if (!Number.isInteger(page.first) || page.first < 0) {
    throw badInput(`first must be a non-negative integer; got ${page.first}.`, { argument: "first" });
  }
  const filter: Record<string, unknown> = { tenantId };
  if (page.after !== undefined) {
    const c = decodeCursor(page.after);
    filter.$or = [{ [timeField]: { $lt: c.createdAt } }, { [timeField]: c.createdAt, id: { $lt: c.id } }];
  }
  const docs = (await collection
    .find(filter as Filter<D>)
    .sort({ [timeField]: -1, id: -1 })
    .limit(page.first + 1)
    .toArray()) as D[];
  const items = docs.slice(0, page.first).map((d) => strip(d));
  return {
    items,
    hasNextPage: docs.length > page.first,
    cursors: items.map((i) =>
      encodeCursor({ createdAt: (i as Record<string, unknown>)[timeField] as Date, id: i.id }),
    ),
  };
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

  const insertOrConflict = async <D extends { _id: string }>(
    c: Collection<D>,
    doc: D,
    what: string,
    id: string,
  ) => {
    try {
      await c.insertOne(doc as Parameters<Collection<D>["insertOne"]>[0]);
    } catch (e) {
      if (isDuplicateKey(e)) {
        throw new AppError(ErrorCode.Conflict, `${what} ${id} already exists.`, {
          cause: e,
          details: { id },
        });
      }
      throw e;
    }
  };

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
    },

    experiments: {
      append: (tenantId, list) =>
        guard(async () => {
          assertTenant(tenantId, list);
          for (const e of list) {
            await insertOrConflict(experiments, { ...e, _id: tenantKey(tenantId, e.id) }, "Experiment", e.id);
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
        guard(async () => {
          assertTenant(tenantId, list);
          const added: OptimizationRule[] = [];
          for (const rule of list) {
            const doc: RuleDoc = {
              ...rule,
              key: normalizeRuleText(rule.description),
              _id: tenantKey(tenantId, rule.id),
            };
            try {
              await rules.insertOne(doc);
              added.push(rule);
            } catch (e) {
              if (!isDuplicateKey(e)) throw e;
            }
          }
          return added;
        }),
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
          await insertOrConflict(
            records,
            { ...record, _id: tenantKey(tenantId, record.id) },
            "Evolution record",
            record.id,
          );
        }),
      list: (tenantId, page) => guard(() => findPage(records, tenantId, "at", page)),
    },

    close: async () => {
      if (ownsClient) await client.close();
    },
  };
};
