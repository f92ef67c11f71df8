import type { RunEvent } from "../domain/events.js";

/** A streamed piece of an agent's LLM output; live only, never stored. */
export interface AgentToken {
  readonly runId: string;
  readonly agentId: string;
  readonly kind: string;
  readonly text: string;
  readonly at: Date;
}

/** Topics and the id that scopes each: run events and tokens by run id. */
export interface BusTopics {
  runEvent: RunEvent;
  agentToken: AgentToken;
}
export type BusTopic = keyof BusTopics;

/**
 * Fan-out of live messages. Delivery is best-effort and live-only: durable history is the
 * event log, which subscribers read to fill any gap.
 */
export interface EventBus {
  publish<T extends BusTopic>(topic: T, id: string, message: BusTopics[T]): Promise<void>;
  /** Live messages published after the call; the iterator's return() releases the subscription. */
  subscribe<T extends BusTopic>(topic: T, id: string): AsyncIterableIterator<BusTopics[T]>;
  close(): Promise<void>;
}
