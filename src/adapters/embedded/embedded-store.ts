import { AppError, ErrorCode } from "../../domain/errors.js";
import type { RunEvent } from "../../domain/events.js";
import type { Agent, Run } from "../../domain/run.js";
import type { AgentStore, EventStore, Page, PageRequest, RunStore, Store } from "../../ports/stores.js";
import { afterCursor, toPage } from "../shared/cursor.js";
import { guardFor, insertEventsOrConflict, insertOrConflict, unavailable } from "../shared/guard.js";
import {
  type Datastore,
  isUniqueViolation,
  type NedbOptions,
  openNedbFiles,
  ownedById,
  refusedKey,
} from "./nedb.js";

/** Where the embedded store keeps its data files (`<collection>.db`). */
export type EmbeddedStoreOptions = NedbOptions;

type WithId<T> = Omit<T, "id"> & { _id: string };
type RunDoc = WithId<Run>;
type AgentDoc = WithId<Agent>;
type EventDoc = RunEvent & { _id: string };

/**
 * The domain record of a document NeDB returned (already its own copy): the same fields in the same
 * order, `_id` renamed `id`. Copied in a loop rather than with `{ _id, ...rest }` and a spread, which V8
 * runs through a generic slow path: on a page of agents that was 5–10× slower (the read path,
 * bench/PROFILING.md, benchmark 5).
 */
const toDomain = <T extends { id: string }>(doc: WithId<T>): T => {
  const record: Record<string, unknown> = {};
  for (const key in doc) if (key !== "_id") record[key] = doc[key as keyof typeof doc];
  record.id = doc._id;
  return record as T;
};
const toDoc = <T extends { id: string }>(value: T): WithId<T> => {
  const { id, ...rest } = value;
  return { ...rest, _id: id } as WithId<T>;
};

const STORE = "embedded store";
/** Runs an operation, turning file-system failures into STORE_UNAVAILABLE and keeping AppErrors as they are. */
const guard = guardFor(STORE);

/** Keyset page over a collection ordered by (createdAt desc, _id desc). */
const findPage = async <T extends { id: string; createdAt: Date }>(
  ds: Datastore<WithId<T>>,
  query: Record<string, unknown>,
  page: PageRequest,
): Promise<Page<T>> => {
  const q: Record<string, unknown> = { ...query };
  if (page.after !== undefined) q.$or = afterCursor(page.after, "createdAt", "_id");
  const docs = (await ds
    .findAsync(q)
    .sort({ createdAt: -1, _id: -1 })
    .limit(page.first + 1)
    .execAsync()) as unknown as WithId<T>[];
  return toPage(
    docs,
    page.first,
    (d) => toDomain<T>(d),
    (i) => ({ createdAt: i.createdAt, id: i.id }),
  );
};

/** A $set of the patch's defined fields: `undefined` leaves a field as it is, `null` clears it. */
const setPatch = (patch: object) => ({
  $set: Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)),
});

/** Updates one document of the tenant, or throws NOT_FOUND (another tenant's id is not found either). */
const updateOwned = async <D extends object>(
  ds: Datastore<D>,
  tenantId: string,
  id: string,
  patch: object,
  what: string,
) => {
  const { numAffected } = await ds.updateAsync(ownedById(tenantId, id), setPatch(patch), {});
  if (numAffected === 0) throw new AppError(ErrorCode.NotFound, `No ${what} with id ${id}.`);
};

/**
 * The default store: @seald-io/nedb, an embedded document database with a MongoDB-like query
 * language, keeping an append-only file per collection in `dataDir`. It needs no server, so
 * `npm start` works on a fresh machine; MongoDB is the production store.
 */
export const createEmbeddedStore = async (options: EmbeddedStoreOptions): Promise<Store> => {
  const files = await openNedbFiles(options);
  const runsDs = await files.open<RunDoc>("runs");
  const agentsDs = await files.open<AgentDoc>("agents");
  const eventsDs = await files.open<EventDoc>("events");
  await guard(async () => {
    await runsDs.ensureIndexAsync({ fieldName: "tenantId" });
    await runsDs.ensureIndexAsync({ fieldName: "status" });
    await agentsDs.ensureIndexAsync({ fieldName: "tenantId" });
    await agentsDs.ensureIndexAsync({ fieldName: "runId" });
    await eventsDs.ensureIndexAsync({ fieldName: "runId" });
  });

  const runs: RunStore = {
    create: (run) =>
      guard(() => insertOrConflict(() => runsDs.insertAsync(toDoc(run)), isUniqueViolation, "Run", run.id)),
    update: (tenantId, id, patch) => guard(() => updateOwned(runsDs, tenantId, id, patch, "run")),
    transition: (tenantId, id, from, patch) =>
      guard(async () => {
        const { affectedDocuments } = await runsDs.updateAsync(
          ownedById(tenantId, id, { status: { $in: [...from] } }),
          setPatch(patch),
          { returnUpdatedDocs: true },
        );
        return affectedDocuments ? toDomain<Run>(affectedDocuments as unknown as RunDoc) : null;
      }),
    get: (tenantId, id) =>
      guard(async () => {
        const doc = (await runsDs
          .findOneAsync(ownedById(tenantId, id))
          .execAsync()) as unknown as RunDoc | null;
        return doc ? toDomain<Run>(doc) : null;
      }),
    list: (tenantId, page, filter) =>
      guard(() =>
        findPage<Run>(runsDs, { tenantId, ...(filter?.status ? { status: filter.status } : {}) }, page),
      ),
    findByStatus: (statuses) =>
      guard(async () => {
        const docs = (await runsDs
          .findAsync({ status: { $in: [...statuses] } })
          .execAsync()) as unknown as RunDoc[];
        return docs.map((d) => toDomain<Run>(d));
      }),
  };

  const agents: AgentStore = {
    create: (agent) =>
      guard(() =>
        insertOrConflict(() => agentsDs.insertAsync(toDoc(agent)), isUniqueViolation, "Agent", agent.id),
      ),
    update: (tenantId, id, patch) => guard(() => updateOwned(agentsDs, tenantId, id, patch, "agent")),
    get: (tenantId, id) =>
      guard(async () => {
        const doc = (await agentsDs
          .findOneAsync(ownedById(tenantId, id))
          .execAsync()) as unknown as AgentDoc | null;
        return doc ? toDomain<Agent>(doc) : null;
      }),
    getMany: (tenantId, ids) =>
      guard(async () => {
        const docs = (await agentsDs
          .findAsync({ _id: { $in: [...ids] }, tenantId })
          .execAsync()) as unknown as AgentDoc[];
        return docs.map((d) => toDomain<Agent>(d));
      }),
    listByRun: (tenantId, runId) =>
      guard(async () => {
        const docs = (await agentsDs
          .findAsync({ tenantId, runId })
          .sort({ ordinal: 1 })
          .execAsync()) as unknown as AgentDoc[];
        return docs.map((d) => toDomain<Agent>(d));
      }),
    listByRuns: (tenantId, runIds) =>
      guard(async () => {
        const docs = (await agentsDs
          .findAsync({ tenantId, runId: { $in: [...new Set(runIds)] } })
          .sort({ runId: 1, ordinal: 1 })
          .execAsync()) as unknown as AgentDoc[];
        return docs.map((d) => toDomain<Agent>(d));
      }),
    list: (tenantId, page, filter) =>
      guard(() =>
        findPage<Agent>(
          agentsDs,
          {
            tenantId,
            ...(filter?.role ? { role: filter.role } : {}),
            ...(filter?.runId ? { runId: filter.runId } : {}),
          },
          page,
        ),
      ),
  };

  const events: EventStore = {
    append: (batch) =>
      guard(async () => {
        if (batch.length === 0) return;
        const docs = batch.map((event) => ({ ...event, _id: `${event.runId}:${event.seq}` }));
        // NeDB's unique-key error names the key it refused.
        const refusedAt = (e: unknown) =>
          isUniqueViolation(e) ? docs.findIndex((d) => d._id === refusedKey(e)) : null;
        // One insert of the array: NeDB checks every key first and writes all lines or none.
        await insertEventsOrConflict(batch, () => eventsDs.insertAsync(docs), refusedAt);
      }),
    list: (tenantId, runId, afterSeq, limit) =>
      guard(async () => {
        let cursor = eventsDs.findAsync({ tenantId, runId, seq: { $gt: afterSeq } }).sort({ seq: 1 });
        if (limit !== undefined) cursor = cursor.limit(limit);
        const docs = (await cursor.execAsync()) as unknown as EventDoc[];
        return docs.map(({ _id, ...e }) => e as RunEvent);
      }),
    lastSeq: (tenantId, runId) =>
      guard(async () => {
        const docs = (await eventsDs
          .findAsync({ tenantId, runId })
          .sort({ seq: -1 })
          .limit(1)
          .execAsync()) as unknown as EventDoc[];
        return docs[0]?.seq ?? 0;
      }),
  };

  let closed = false;
  return {
    runs,
    agents,
    events,
    ping: async () => {
      if (closed) throw unavailable(STORE, new Error("store closed"));
    },
    close: async () => {
      closed = true;
      await files.close();
    },
  };
};
