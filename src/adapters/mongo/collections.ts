import { Binary, type Db, type IndexDescription } from "mongodb";
import type { RunEvent } from "../../domain/events.js";
import type { LlmParams } from "../../domain/genome.js";
import { withLazyTranscript } from "../../domain/lazy-transcript.js";
import {
  type Agent,
  type AgentResult,
  type AgentRole,
  type AgentState,
  type Genome,
  identityOf,
  type Run,
  type RunConfig,
  type RunError,
  type RunStatus,
  type TokenUsage,
} from "../../domain/run.js";
import type { TranscriptEntry } from "../../domain/transcript.js";
import type { UsageSummary } from "../../domain/usage.js";
import type { AgentPatch, RunPatch } from "../../ports/stores.js";
import { decodeDoc, encodeDoc } from "../embedded/sqlite-codec.js";
import { currentEventShape } from "../shared/documents.js";

/**
 * The stored shape of every record, and the only place that knows it. Our string ids are the `_id`
 * (no ObjectId ever reaches the domain); dates are BSON dates; nested values (config, genome, result
 * with its debate, events' bodies) are stored as sub-documents of the domain shape.
 */
export const COLLECTIONS = { runs: "runs", agents: "agents", events: "events" } as const;

export interface RunDoc {
  _id: string;
  tenantId: string;
  query: string;
  config: RunConfig;
  status: RunStatus;
  response: string | null;
  confidence: number | null;
  merkleRoot: string | null;
  traceRoot: string | null;
  levelsProcessed: number;
  leafOrder: string[];
  model: string | null;
  tokensUsed: TokenUsage;
  /** Absent in documents written before run usage summaries were stored. */
  usage?: UsageSummary | null;
  error: RunError | null;
  /** Absent in documents written before run leases existed. */
  ownerId?: string | null;
  heartbeatAt?: Date | null;
  createdAt: Date;
  startedAt: Date | null;
  completedAt: Date | null;
}

export interface AgentDoc {
  _id: string;
  tenantId: string;
  runId: string;
  role: AgentRole;
  name: string;
  depth: number;
  parentId: string | null;
  ordinal: number;
  genome: Genome;
  /** Absent in documents written before the parameters sent were recorded. */
  llmParams?: LlmParams;
  state: AgentState;
  fitness: number | null;
  result: AgentResult | null;
  error: RunError | null;
  /** A packed transcript (see packTranscript), or the entries as documents (written before, or tiny). */
  transcript: TranscriptEntry[] | Binary;
  createdAt: Date;
  completedAt: Date | null;
}

/**
 * An agent's transcript, most of its document (every prompt repeats the query and the other agents'
 * answers), is stored as one BSON Binary: its JSON deflated with the agent dictionary, as the embedded
 * store keeps agents (embedded/sqlite-codec.ts). Nothing queries inside a transcript; reads unpack it,
 * and transcripts stored as arrays of documents before read as they are.
 */
const packTranscript = (transcript: readonly TranscriptEntry[]): TranscriptEntry[] | Binary => {
  if (transcript.length === 0) return [];
  const packed = encodeDoc(transcript, "agent");
  return typeof packed === "string" ? [...transcript] : new Binary(packed);
};
const unpackTranscript = (stored: TranscriptEntry[] | Binary): TranscriptEntry[] =>
  stored instanceof Binary ? decodeDoc<TranscriptEntry[]>(Buffer.from(stored.value())) : stored;

/**
 * An event as stored: a deterministic `_id` of `<runId>:<seq>`, the fields it is found and ordered by
 * (tenant, run, seq) and its type and time in the clear, and the rest of it (`body`: an AgentFailed
 * carries the agent as it failed) as one BSON Binary, its JSON deflated with the embedded store's event
 * dictionary. Events stored before are the event itself plus `_id`, and read as before.
 */
export type EventDoc =
  | {
      _id: string;
      tenantId: string;
      runId: string;
      seq: number;
      type: RunEvent["type"];
      at: Date;
      body: Binary;
    }
  | (RunEvent & { _id: string; body?: undefined });

/**
 * The indexes every query of the store is served by, created explicitly (names are Mongo's defaults).
 * The unique {runId, seq} index is what turns a second append of the same seq into CONFLICT.
 */
export const INDEXES: Readonly<Record<keyof typeof COLLECTIONS, readonly IndexDescription[]>> = {
  runs: [{ key: { tenantId: 1, createdAt: -1, _id: -1 } }, { key: { status: 1 } }],
  agents: [
    { key: { tenantId: 1, createdAt: -1, _id: -1 } },
    { key: { tenantId: 1, runId: 1, ordinal: 1 } },
    { key: { tenantId: 1, role: 1, createdAt: -1 } },
  ],
  events: [{ key: { runId: 1, seq: 1 }, unique: true }, { key: { tenantId: 1, runId: 1, seq: 1 } }],
};

/**
 * Creates the store's collections' indexes; idempotent, so it is safe on every start.
 * Throws the driver's error (the caller maps it) when the server is unreachable.
 */
export const ensureIndexes = (db: Db): Promise<void> => ensureCollectionIndexes(db, COLLECTIONS, INDEXES);

/**
 * Creates `indexes` on the collections named in `collections` (by the same keys); idempotent. Every
 * store's `ensure…Indexes` goes through here.
 */
export const ensureCollectionIndexes = async <K extends string>(
  db: Db,
  collections: Readonly<Record<K, string>>,
  indexes: Readonly<Record<K, readonly IndexDescription[]>>,
): Promise<void> => {
  for (const name of Object.keys(indexes) as K[]) {
    // One index per command: FerretDB v1.24 drops the connection (a server-side panic) when a single
    // createIndexes names two or more indexes that all exist already, i.e. on every restart.
    for (const index of indexes[name]) await db.collection(collections[name]).createIndexes([index]);
  }
};

export const eventDocId = (runId: string, seq: number): string => `${runId}:${seq}`;

export const runToDoc = (run: Run): RunDoc => ({
  _id: run.id,
  tenantId: run.tenantId,
  query: run.query,
  config: run.config,
  status: run.status,
  response: run.response,
  confidence: run.confidence,
  merkleRoot: run.merkleRoot,
  traceRoot: run.traceRoot,
  levelsProcessed: run.levelsProcessed,
  leafOrder: [...run.leafOrder],
  model: run.model,
  tokensUsed: run.tokensUsed,
  ...(run.usage ? { usage: run.usage } : {}),
  error: run.error,
  ownerId: run.ownerId,
  heartbeatAt: run.heartbeatAt,
  createdAt: run.createdAt,
  startedAt: run.startedAt,
  completedAt: run.completedAt,
});

export const runFromDoc = (doc: RunDoc): Run => ({
  id: doc._id,
  tenantId: doc.tenantId,
  query: doc.query,
  config: doc.config,
  status: doc.status,
  response: doc.response,
  confidence: doc.confidence,
  merkleRoot: doc.merkleRoot,
  traceRoot: doc.traceRoot,
  levelsProcessed: doc.levelsProcessed,
  leafOrder: doc.leafOrder,
  model: doc.model,
  tokensUsed: doc.tokensUsed,
  ...(doc.usage ? { usage: doc.usage } : {}),
  error: doc.error,
  ownerId: doc.ownerId ?? null,
  heartbeatAt: doc.heartbeatAt ?? null,
  createdAt: doc.createdAt,
  startedAt: doc.startedAt,
  completedAt: doc.completedAt,
});

export const agentToDoc = (agent: Agent): AgentDoc => {
  const { id, ...identity } = identityOf(agent);
  return {
    _id: id,
    ...identity,
    state: agent.state,
    fitness: agent.fitness,
    result: agent.result,
    error: agent.error,
    transcript: packTranscript(agent.transcript),
    completedAt: agent.completedAt,
  };
};

export const agentFromDoc = (doc: AgentDoc): Agent => {
  const { transcript } = doc;
  const agent = {
    id: doc._id,
    tenantId: doc.tenantId,
    runId: doc.runId,
    role: doc.role,
    name: doc.name,
    depth: doc.depth,
    parentId: doc.parentId,
    ordinal: doc.ordinal,
    genome: doc.genome,
    ...(doc.llmParams ? { llmParams: doc.llmParams } : {}),
    state: doc.state,
    fitness: doc.fitness,
    result: doc.result,
    error: doc.error,
    createdAt: doc.createdAt,
    completedAt: doc.completedAt,
  };
  // A packed transcript is unpacked only when read (see domain/lazy-transcript.ts).
  return transcript instanceof Binary
    ? withLazyTranscript(agent, () => unpackTranscript(transcript))
    : { ...agent, transcript };
};

export const eventToDoc = (event: RunEvent): EventDoc => {
  const { tenantId, runId, seq, type, at, ...rest } = event;
  const packed = encodeDoc(rest, "event");
  return typeof packed === "string"
    ? { ...event, _id: eventDocId(runId, seq) }
    : { _id: eventDocId(runId, seq), tenantId, runId, seq, type, at, body: new Binary(packed) };
};

export const eventFromDoc = (doc: EventDoc): RunEvent => {
  if (doc.body === undefined) {
    const { _id, body: _body, ...event } = doc;
    return currentEventShape(event as RunEvent);
  }
  const { _id, body, ...envelope } = doc;
  return currentEventShape({ ...decodeDoc<object>(Buffer.from(body.value())), ...envelope } as RunEvent);
};

/**
 * A patch as a `$set` document. Keys whose value is `undefined` are left out: the driver would
 * otherwise store them as null and wipe the field.
 */
export const patchToSet = (patch: RunPatch | AgentPatch): Record<string, unknown> =>
  Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined));

/** An agent patch as a `$set` document, its transcript stored as agentToDoc stores it. */
export const agentPatchToSet = (patch: AgentPatch): Record<string, unknown> => {
  const set = patchToSet(patch);
  if (patch.transcript !== undefined) set.transcript = packTranscript(patch.transcript);
  return set;
};
