import type { RunEvent } from "../domain/events.js";
import type { EvolutionRecord } from "../domain/evolution.js";

/** A streamed piece of an agent's LLM output; live only, never stored. */
export interface AgentToken {
  readonly runId: string;
  readonly agentId: string;
  readonly kind: string;
  readonly text: string;
  readonly at: Date;
}

/** Topics and the id that scopes each: run events and tokens by run id, evolution records by tenant id. */
export interface BusTopics {
  runEvent: RunEvent;
  agentToken: AgentToken;
  evolution: EvolutionRecord;
}
export type BusTopic = keyof BusTopics;

/** A live subscription: an async iterator whose return() releases it. */
export interface BusSubscription<T> extends AsyncIterableIterator<T> {
  /** Resolves once every message published from then on will be delivered (async for remote buses). */
  readonly ready: Promise<void>;
}

/**
 * Fan-out of live messages. Delivery is best-effort and live-only: a subscriber that falls too far
 * behind loses its oldest undelivered messages. Durable history is the event log, which
 * subscribers read to fill any gap (run events carry a gap-free seq).
 */
export interface EventBus {
  publish<T extends BusTopic>(topic: T, id: string, message: BusTopics[T]): Promise<void>;
  /** Messages published after `ready` resolves, registered eagerly at the call. */
  subscribe<T extends BusTopic>(topic: T, id: string): BusSubscription<BusTopics[T]>;
  close(): Promise<void>;
}
