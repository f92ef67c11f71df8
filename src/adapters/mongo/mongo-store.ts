import type { Collection, Filter, MongoClient } from "mongodb";
import type { Agent, Run } from "../../domain/run.js";
import type { AgentStore, EventStore, Page, PageRequest, RunStore, Store } from "../../ports/stores.js";
import { afterCursor, assertPageSize, toPage } from "../shared/cursor.js";
import { insertEventsOrConflict, notFound } from "../shared/guard.js";
import {
  type AgentDoc,
  agentFromDoc,
  agentPatchToSet,
  agentToDoc,
  COLLECTIONS,
  type EventDoc,
  eventFromDoc,
  eventToDoc,
  patchToSet,
  type RunDoc,
  runFromDoc,
  runToDoc,
} from "./collections.js";
import { duplicateKeyIndex, guard } from "./errors.js";

export { toAppError } from "./errors.js";

export interface MongoStoreOptions {
  /** A client built by the caller (URI, pool size, serverSelectionTimeoutMS …); it connects lazily. */
  readonly client: MongoClient;
  readonly dbName: string;
  /** When true, `close()` closes the client too. @default false */
  readonly ownsClient?: boolean;
}

/**
 * The `Store` port on MongoDB (and on wire-compatible servers: FerretDB v1 is tested). It uses only
 * single-document writes, finds with sort/limit and plain filters: no transactions, change streams or
 * aggregation, which FerretDB v1 lacks. Indexes are not created here: call `ensureIndexes` at startup.
 *
 * Every operation but `runs.findByStatus` is scoped by tenant; another tenant's id behaves exactly like
 * a missing one. Failures reject with `AppError`: STORE_UNAVAILABLE when the server cannot be reached
 * (the driver's error is the `cause`), CONFLICT for a duplicate event seq, NOT_FOUND for an update of
 * a missing record, BAD_USER_INPUT for a malformed cursor.
 */
export const createMongoStore = (options: MongoStoreOptions): Store => {
  const { client, dbName, ownsClient = false } = options;
  const db = client.db(dbName);
  const runsC = db.collection<RunDoc>(COLLECTIONS.runs);
  const agentsC = db.collection<AgentDoc>(COLLECTIONS.agents);
  const eventsC = db.collection<EventDoc>(COLLECTIONS.events);

  const runs: RunStore = {
    create: (run) =>
      guard(async () => {
        await runsC.insertOne(runToDoc(run));
      }),
    update: (tenantId, id, patch) => guard(() => updateOne(runsC, "Run", tenantId, id, patchToSet(patch))),
    transition: (tenantId, id, from, patch) =>
      guard(async () => {
        const doc = await runsC.findOneAndUpdate(
          { _id: id, tenantId, status: { $in: [...from] } },
          { $set: patchToSet(patch) },
          { returnDocument: "after" },
        );
        return doc === null ? null : runFromDoc(doc);
      }),
    get: (tenantId, id) =>
      guard(async () => {
        const doc = await findOwned(runsC, tenantId, id);
        return doc === null ? null : runFromDoc(doc);
      }),
    list: (tenantId, page, filter) =>
      guard(async () => {
        const query: Filter<RunDoc> = { tenantId };
        if (filter?.status !== undefined) query.status = filter.status;
        if (filter?.createdFrom !== undefined || filter?.createdBefore !== undefined) {
          query.createdAt = {
            ...(filter.createdFrom === undefined ? {} : { $gte: filter.createdFrom }),
            ...(filter.createdBefore === undefined ? {} : { $lt: filter.createdBefore }),
          };
        }
        return findPage(runsC, query, page, runFromDoc);
      }),
    // A system operation (startup recovery), deliberately not scoped by tenant.
    findByStatus: (statuses) =>
      guard(async () => {
        if (statuses.length === 0) return [];
        const docs = await runsC
          .find({ status: { $in: [...statuses] } })
          .sort({ createdAt: 1, _id: 1 })
          .toArray();
        return docs.map(runFromDoc);
      }),
  };

  const agents: AgentStore = {
    create: (agent) =>
      guard(async () => {
        await agentsC.insertOne(agentToDoc(agent));
      }),
    update: (tenantId, id, patch) =>
      guard(() => updateOne(agentsC, "Agent", tenantId, id, agentPatchToSet(patch))),
    get: (tenantId, id) =>
      guard(async () => {
        const doc = await findOwned(agentsC, tenantId, id);
        return doc === null ? null : agentFromDoc(doc);
      }),
    getMany: (tenantId, ids) =>
      guard(async () => {
        const unique = [...new Set(ids)];
        if (unique.length === 0) return [];
        const docs = await agentsC.find({ tenantId, _id: { $in: unique } }).toArray();
        const byId = new Map(docs.map((d) => [d._id, d]));
        // In the order asked for, so callers (DataLoader) can zip ids with results.
        return unique.flatMap((id) => {
          const doc = byId.get(id);
          return doc === undefined ? [] : [agentFromDoc(doc)];
        });
      }),
    listByRun: (tenantId, runId) =>
      guard(async () => {
        const docs = await agentsC.find({ tenantId, runId }).sort({ ordinal: 1, _id: 1 }).toArray();
        return docs.map(agentFromDoc);
      }),
    listByRuns: (tenantId, runIds) =>
      guard(async () => {
        if (runIds.length === 0) return [];
        const docs = await agentsC
          .find({ tenantId, runId: { $in: [...new Set(runIds)] } })
          .sort({ runId: 1, ordinal: 1, _id: 1 })
          .toArray();
        return docs.map(agentFromDoc);
      }),
    list: (tenantId, page, filter) =>
      guard(async () => {
        const query: Filter<AgentDoc> = { tenantId };
        if (filter?.role !== undefined) query.role = filter.role;
        if (filter?.runId !== undefined) query.runId = filter.runId;
        return findPage(agentsC, query, page, agentFromDoc);
      }),
  };

  const events: EventStore = {
    // The changes first, one write each, then the events: an event is never stored before its change.
    append: (batch, changes = []) =>
      guard(async () => {
        for (const change of changes) {
          if (change.kind === "createAgent") await agents.create(change.agent);
          else if (change.kind === "updateAgent")
            await agents.update(change.tenantId, change.id, change.patch);
          else await runs.update(change.tenantId, change.id, change.patch);
        }
        if (batch.length === 0) return;
        await insertEventsOrConflict(
          batch,
          () => eventsC.insertMany(batch.map(eventToDoc), { ordered: true }),
          duplicateKeyIndex,
        );
      }),
    list: (tenantId, runId, afterSeq, limit) =>
      guard(async () => {
        if (limit !== undefined && limit <= 0) return [];
        const cursor = eventsC.find({ tenantId, runId, seq: { $gt: afterSeq } }).sort({ seq: 1 });
        if (limit !== undefined) cursor.limit(limit);
        const docs = await cursor.toArray();
        return docs.map(eventFromDoc);
      }),
    lastSeq: (tenantId, runId) =>
      guard(async () => {
        const last = await eventsC.findOne(
          { tenantId, runId },
          { sort: { seq: -1 }, projection: { _id: 0, seq: 1 } },
        );
        return last?.seq ?? 0;
      }),
  };

  return {
    runs,
    agents,
    events,
    ping: () =>
      guard(async () => {
        await db.command({ ping: 1 });
      }),
    close: async () => {
      if (ownsClient) await client.close();
    },
  };
};

type Keyed = { _id: string; tenantId: string; createdAt: Date };

/**
 * The tenant's document with this id, or null (another tenant's is null too). Looked up by `_id` alone,
 * the one filter FerretDB answers from its primary key (a filter with more fields scans the
 * collection), and the tenant checked here: a document's tenant never changes.
 */
const findOwned = async <D extends Keyed>(
  collection: Collection<D>,
  tenantId: string,
  id: string,
  projection?: Record<string, 1>,
): Promise<D | null> => {
  const doc = (await collection.findOne(
    { _id: id } as Filter<D>,
    projection ? { projection } : {},
  )) as D | null;
  return doc !== null && doc.tenantId === tenantId ? doc : null;
};

/**
 * Updates the tenant's document or throws NOT_FOUND: the owner is checked by `_id` (see findOwned),
 * then the update matches the `_id` alone, both answered from the primary key.
 */
const updateOne = async <D extends Keyed>(
  collection: Collection<D>,
  kind: string,
  tenantId: string,
  id: string,
  set: Record<string, unknown>,
): Promise<void> => {
  if ((await findOwned(collection, tenantId, id, { tenantId: 1 })) === null) throw notFound(kind, id);
  // `$set` may not be empty; an empty patch only checks that the record exists.
  if (Object.keys(set).length === 0) return;
  const { matchedCount } = await collection.updateOne({ _id: id } as Filter<D>, { $set: set as Partial<D> });
  if (matchedCount === 0) throw notFound(kind, id);
};

/** One keyset page, newest first on (createdAt desc, _id desc): stable while documents are added. */
const findPage = async <D extends Keyed, T extends Run | Agent>(
  collection: Collection<D>,
  query: Filter<D>,
  page: PageRequest,
  fromDoc: (doc: D) => T,
): Promise<Page<T>> => {
  assertPageSize(page.first);
  const filter =
    page.after === undefined
      ? query
      : ({ ...query, $or: afterCursor(page.after, "createdAt", "_id") } as Filter<D>);
  const docs = (await collection
    .find(filter)
    .sort({ createdAt: -1, _id: -1 })
    .limit(page.first + 1)
    .toArray()) as D[];
  return toPage(docs, page.first, fromDoc, (item) => ({ createdAt: item.createdAt, id: item.id }));
};
