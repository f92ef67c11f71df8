import type { RunEvent } from "../../domain/events.js";

/** A stored document without its `_id`: the domain record it holds. */
export const strip = <T extends { _id: unknown }>(doc: T): Omit<T, "_id"> => {
  const { _id, ...rest } = doc;
  return rest;
};

/** The record with the patch's defined fields applied: `undefined` leaves a field, `null` clears it. */
export const applyPatch = <T extends object>(record: T, patch: object): T => {
  const next: Record<string, unknown> = { ...(record as Record<string, unknown>) };
  for (const [key, value] of Object.entries(patch)) if (value !== undefined) next[key] = value;
  return next as T;
};

/**
 * A stored event in today's shape. An AgentCompleted stored before events stopped repeating the
 * agent carried `agent` and `result` (copies of the stored agent); it now names the agent only.
 */
export const currentEventShape = (stored: RunEvent): RunEvent => {
  if (stored.type !== "AgentCompleted" || typeof stored.agentId === "string") return stored;
  const { agent, result, ...rest } = stored as RunEvent & { agent: { id: string }; result?: unknown };
  return { ...rest, agentId: agent.id } as RunEvent;
};
