import { randomUUID } from "node:crypto";
import type { Collection, Db, Filter, IndexDescription } from "mongodb";
import {
  absentMember,
  combineFitness,
  type EvolutionRecord,
  type FitnessObservation,
  type FitnessStats,
  type GenePool,
  NO_FITNESS,
  observationsByGenome,
  type PoolMember,
  type TenantExperiment,
  withObservations,
} from "../../domain/evolution.js";
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
  /** Each writer's share of a genome's fitness statistics (see addFitness). */
  fitnessShares: "genome_fitness_shares",
} as const;

type Keyed<T> = T & { _id: string };
export type GenomeMemberDoc = Keyed<PoolMember>;
export type GenePoolDoc = Keyed<GenePool>;
export type ExperimentDoc = Keyed<TenantExperiment>;
/** `key` is the rule's normalised text, unique per tenant. */
export type { RuleDoc } from "../shared/evolution-records.js";
export type EvolutionRecordDoc = Keyed<EvolutionRecord>;
/**
 * The claim of a pointer version (`_id` is the role's key and the version left): the one writer whose
 * insert succeeds moves the pointer to `pool`. Claims stored before they carried the pointer have none.
 */
export interface PoolClaimDoc {
  readonly _id: string;
  readonly tenantId: string;
  readonly at: Date;
  readonly pool?: GenePool;
}

const isPointer = (stored: GenePool | null, pool: GenePool) =>
  stored !== null && stored.evolutions === pool.evolutions && stored.currentGenomeId === pool.currentGenomeId;
/**
 * One store instance's share of a genome's statistics: the observations it added, and when the last
 * was made. Only the instance whose `writerId` it carries writes it, so no two writers ever race on a
 * document (an update that reads and writes is not atomic on FerretDB v1). A genome's statistics are
 * its member document's own (stored before shares existed, or set by saveMember) plus every share.
 */
export interface FitnessShareDoc {
  readonly _id: string;
  readonly tenantId: string;
  readonly genomeId: string;
  readonly writerId: string;
  readonly stats: FitnessStats;
  readonly at: Date;
}

/** Every query of the evolution store is served by one of these (all lead with tenantId). */
export const EVOLUTION_INDEXES: Readonly<
  Record<keyof typeof EVOLUTION_COLLECTIONS, readonly IndexDescription[]>
> = {
  genomes: [{ key: { tenantId: 1, createdAt: 1, _id: 1 } }],
  genePools: [{ key: { tenantId: 1, role: 1 } }],
  poolVersions: [{ key: { tenantId: 1 } }],
  fitnessShares: [{ key: { tenantId: 1, genomeId: 1 } }],
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
  const poolVersions = db.collection<PoolClaimDoc>(EVOLUTION_COLLECTIONS.poolVersions);
  /**
   * Sets the role's pointer to `pool` if it is still at `expected` evolutions (pointers moved by
   * savePool, without claims, are caught here); true when the pointer is now `pool`, whoever wrote it.
   */
  const movePointer = async (_id: string, expected: number, pool: GenePool): Promise<boolean> => {
    if (expected === 0) {
      const stored = await pools.findOne({ _id });
      if (stored !== null && stored.evolutions !== 0) return isPointer(stored, pool);
      // Two writers may upsert the first pointer at once (the claim's writer and one completing it
      // for them): the second insert of the same _id is refused, and the pointer is already set.
      // Only a pointer still at 0 is replaced (a later one makes the upsert's insert a duplicate).
      const upserted = await pools.replaceOne({ _id, evolutions: 0 }, { ...pool }, { upsert: true }).then(
        () => true,
        (e: unknown) => {
          if (isDuplicateKey(e)) return false;
          throw e;
        },
      );
      return upserted || isPointer(await pools.findOne({ _id }), pool);
    }
    const { matchedCount } = await pools.replaceOne({ _id, evolutions: expected }, { ...pool });
    return matchedCount === 1 || isPointer(await pools.findOne({ _id }), pool);
  };
  const shares = db.collection<FitnessShareDoc>(EVOLUTION_COLLECTIONS.fitnessShares);
  /** This instance's identity as a writer of fitness shares. */
  const writerId = randomUUID();
  const shareKey = (tenantId: string, genomeId: string) => tenantKey(tenantId, `${genomeId}:${writerId}`);
  const withShares = (member: PoolMember, own: readonly Pick<FitnessShareDoc, "stats" | "at">[]) => ({
    ...member,
    stats: combineFitness([{ stats: member.stats, at: null }, ...own]),
  });

  const addFitness = async (tenantId: string, observations: readonly FitnessObservation[]) => {
    const groups = observationsByGenome(observations);
    if (groups.size === 0) return [];
    const genomeIds = [...groups.keys()];
    const [stored, held] = await Promise.all([
      members.find({ _id: { $in: genomeIds.map((id) => tenantKey(tenantId, id)) } }).toArray(),
      shares.find({ tenantId, genomeId: { $in: genomeIds } }).toArray(),
    ]);
    const changed: PoolMember[] = [];
    const written: FitnessShareDoc[] = [];
    for (const [genomeId, own] of groups) {
      const first = own[0] as FitnessObservation;
      const doc = stored.find((d) => d.genome.id === genomeId);
      if (doc === undefined && !first.addIfAbsent) continue;
      const member = doc === undefined ? absentMember(tenantId, first) : strip(doc);
      if (doc === undefined) await insertIfAbsent(tenantKey(tenantId, genomeId), member);
      const mine = held.find((d) => d.genomeId === genomeId && d.writerId === writerId);
      const share: FitnessShareDoc = {
        _id: shareKey(tenantId, genomeId),
        tenantId,
        genomeId,
        writerId,
        stats: withObservations(mine?.stats ?? NO_FITNESS, own),
        at: (own.at(-1) as FitnessObservation).at,
      };
      written.push(share);
      const others = held.filter((d) => d.genomeId === genomeId && d.writerId !== writerId);
      changed.push(withShares(member, [...others, share]));
    }
    if (written.length > 0)
      await shares.bulkWrite(
        written.map((share) => ({
          replaceOne: { filter: { _id: share._id }, replacement: share, upsert: true },
        })),
      );
    return changed;
  };
  /** A member another writer may be adding at the same moment: whichever insert lands first stays. */
  const insertIfAbsent = (_id: string, member: PoolMember) =>
    members.insertOne({ ...member, _id }).catch((e: unknown) => {
      if (!isDuplicateKey(e)) throw e;
    });
  // This instance's calls run one after another: each reads its own share before it writes it.
  let fitnessTail: Promise<unknown> = Promise.resolve();

  return {
    pools: {
      load: (tenantId) =>
        guard(async () => {
          const p = await pools.find({ tenantId }).sort({ role: 1 }).toArray();
          const m = await members.find({ tenantId }).sort({ createdAt: 1, _id: 1 }).toArray();
          const held = await shares.find({ tenantId }).toArray();
          return {
            pools: p.map((d) => strip(d)),
            members: m.map((d) =>
              withShares(
                strip(d),
                held.filter((s) => s.genomeId === d.genome.id),
              ),
            ),
          };
        }),
      saveMember: (tenantId, member) =>
        guard(async () => {
          assertTenant(tenantId, [member]);
          const _id = tenantKey(tenantId, member.genome.id);
          await members.replaceOne({ _id }, { ...member }, { upsert: true });
          await shares.deleteMany({ tenantId, genomeId: member.genome.id });
        }),
      addFitness: (tenantId, observations) => {
        const run = fitnessTail.then(() => guard(() => addFitness(tenantId, observations)));
        fitnessTail = run.catch(() => undefined);
        return run;
      },
      removeMembers: (tenantId, genomeIds) =>
        guard(async () => {
          if (genomeIds.length === 0) return;
          await members.deleteMany({
            tenantId,
            _id: { $in: genomeIds.map((id) => tenantKey(tenantId, id)) },
          });
          await shares.deleteMany({ tenantId, genomeId: { $in: [...genomeIds] } });
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
          const claim: PoolClaimDoc = {
            _id: `${_id}:${expected}`,
            tenantId,
            at: pool.updatedAt,
            pool: { ...pool },
          };
          const claimed = await poolVersions.insertOne(claim).then(
            () => true,
            (e: unknown) => {
              if (isDuplicateKey(e)) return false;
              throw e;
            },
          );
          // A won claim makes `pool` the next version, whoever moves the pointer (the pointer may have
          // moved on already): the change is made, and false would make the caller apply it twice.
          if (claimed) return movePointer(_id, expected, pool).then(() => true);
          // The claim's writer may have died before moving the pointer: move it for them (the claim
          // holds the pointer they chose), or no writer could ever leave this version again.
          const taken = await poolVersions.findOne({ _id: claim._id });
          if (taken?.pool !== undefined) await movePointer(_id, expected, taken.pool);
          return false;
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
