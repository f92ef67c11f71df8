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
 * A stored event in today's shape. Events stored before events stopped repeating what other records
 * hold carried copies: an AgentCompleted its `agent` and `result`, an AgentStarted its `agent` (as it
 * started), an AnchorRecorded its `receipt`. Each now names the record instead.
 */
export const currentEventShape = (stored: RunEvent): RunEvent => {
  const old = stored as RunEvent & { agent?: { id: string }; result?: unknown; receipt?: OldReceipt };
  if ((old.type === "AgentCompleted" || old.type === "AgentStarted") && old.agent !== undefined) {
    const { agent, result, ...rest } = old;
    return { ...rest, agentId: agent.id } as RunEvent;
  }
  if (old.type === "AnchorRecorded" && old.receipt !== undefined) {
    const { receipt, ...rest } = old;
    return { ...rest, backend: receipt.backend, recordHash: receipt.recordHash } as RunEvent;
  }
  return stored;
};

type OldReceipt = { backend: string; recordHash: string };
