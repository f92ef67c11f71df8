import type { RunEvent } from "../domain/events.js";
import type { Agent, AgentRole, Run, RunStatus } from "../domain/run.js";

/** Keyset pagination, newest first: stable while new documents arrive. */
export interface PageRequest {
  readonly first: number;
  /** Opaque cursor from a previous page's endCursor. */
  readonly after?: string | undefined;
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly hasNextPage: boolean;
  /** Cursor of each item, in order. */
  readonly cursors: readonly string[];
}

export type RunPatch = Partial<
  Pick<
    Run,
    | "status"
    | "response"
    | "confidence"
    | "merkleRoot"
    | "traceRoot"
    | "levelsProcessed"
    | "leafOrder"
    | "model"
    | "tokensUsed"
    | "usage"
    | "error"
    | "startedAt"
    | "completedAt"
    | "ownerId"
    | "heartbeatAt"
  >
>;

export type AgentPatch = Partial<
  Pick<Agent, "state" | "fitness" | "result" | "error" | "transcript" | "completedAt" | "llmParams">
>;

export interface RunFilter {
  readonly status?: RunStatus | undefined;
  /** Runs created at or after this time. */
  readonly createdFrom?: Date | undefined;
  /** Runs created before this time. */
  readonly createdBefore?: Date | undefined;
}

export interface RunStore {
  create(run: Run): Promise<void>;
  update(tenantId: string, id: string, patch: RunPatch): Promise<void>;
  get(tenantId: string, id: string): Promise<Run | null>;
  /**
   * Applies the patch only while the run's status is one of `from` (compare-and-set across
   * instances); returns the updated run, or null when the run is missing or in another state.
   */
  transition(tenantId: string, id: string, from: readonly RunStatus[], patch: RunPatch): Promise<Run | null>;
  list(tenantId: string, page: PageRequest, filter?: RunFilter): Promise<Page<Run>>;
  /** Every tenant's runs in the given states, for recovery at startup. */
  findByStatus(statuses: readonly RunStatus[]): Promise<Run[]>;
}

export interface AgentFilter {
  readonly role?: AgentRole | undefined;
  readonly runId?: string | undefined;
}

export interface AgentStore {
  create(agent: Agent): Promise<void>;
  update(tenantId: string, id: string, patch: AgentPatch): Promise<void>;
  get(tenantId: string, id: string): Promise<Agent | null>;
  /** The agents with these ids, in one round trip; missing ids are absent from the result. */
  getMany(tenantId: string, ids: readonly string[]): Promise<Agent[]>;
  /** A run's agents in spawn (ordinal) order. */
  listByRun(tenantId: string, runId: string): Promise<Agent[]>;
  /** The agents of several runs in one round trip, ordered by run then ordinal (for batching resolvers). */
  listByRuns(tenantId: string, runIds: readonly string[]): Promise<Agent[]>;
  list(tenantId: string, page: PageRequest, filter?: AgentFilter): Promise<Page<Agent>>;
}

/**
 * A change of a run or agent record that an event announces, written together with it by
 * `EventStore.append`, so that a subscriber never sees the event before the record it announces.
 */
export type StateChange =
  | { readonly kind: "createAgent"; readonly agent: Agent }
  | {
      readonly kind: "updateAgent";
      readonly tenantId: string;
      readonly id: string;
      readonly patch: AgentPatch;
    }
  | { readonly kind: "updateRun"; readonly tenantId: string; readonly id: string; readonly patch: RunPatch };

export interface EventStore {
  /**
   * Appends events (in seq order) in one write, after applying `changes` in order (each as its
   * RunStore/AgentStore operation would: CONFLICT for an agent stored already, NOT_FOUND for a missing
   * record). An event whose (runId, seq) is stored already is rejected with CONFLICT; the events before
   * it in the same call may then have been stored. A change that fails stores no event. The embedded
   * store writes changes and events in one transaction (all or nothing); MongoDB writes the changes
   * first, then the events, so a refused event may leave the changes applied.
   */
  append(events: readonly RunEvent[], changes?: readonly StateChange[]): Promise<void>;
  /** Events of a run with seq > afterSeq, in seq order. */
  list(tenantId: string, runId: string, afterSeq: number, limit?: number): Promise<RunEvent[]>;
  /** Highest seq stored for a run, 0 when none. */
  lastSeq(tenantId: string, runId: string): Promise<number>;
}

/** The store the app is wired with: one object per backend, closed by whoever opened it. */
export interface Store {
  readonly runs: RunStore;
  readonly agents: AgentStore;
  readonly events: EventStore;
  /** Resolves when the backend answers; rejects with STORE_UNAVAILABLE otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
