import type Database from "better-sqlite3";
import { AppError, ErrorCode } from "../../domain/errors.js";
import { withLazyTranscript } from "../../domain/lazy-transcript.js";
import { type Agent, type AgentState, isInProgress } from "../../domain/run.js";
import type { TranscriptEntry } from "../../domain/transcript.js";
import type { AgentPatch } from "../../ports/stores.js";
import { applyPatch } from "../shared/documents.js";
import { createDecodedDocuments } from "./decoded-documents.js";
import { decodeDoc, encodeDoc } from "./sqlite.js";
import type { DocKind, StoredDoc } from "./sqlite-codec.js";
import type { Statements } from "./statements.js";

/*
 * How an agent is kept in its row of the embedded database. Its transcript has a column of its own
 * (schema version 5), read only when used; its state too (version 6), so that a change of the state
 * alone is one small update. Agents written before keep either inside `doc` and read the same.
 */

/** An agent's document is deflated once the agent has settled; as text while its row will be written again. */
const agentDocKind = (state: AgentState): DocKind => (isInProgress(state) ? "rewritten" : "agent");

/** The state a patch sets when it changes nothing else, else null. */
const stateOnly = (patch: AgentPatch): AgentState | null => {
  let state: AgentState | null = null;
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (key !== "state") return null;
    state = value as AgentState;
  }
  return state;
};

/**
 * An agent's row: its id, document, transcript and state (each of the last two null for agents
 * stored before it had a column: the document holds it). The state column, when set, is the
 * agent's state.
 */
export type AgentRow = {
  id: string;
  doc: StoredDoc;
  transcript: StoredDoc | null;
  state: AgentState | null;
};
export const AGENT_COLUMNS = "id, doc, transcript, state";

/**
 * An agent's row as a page of agents reads it: without its transcript, which is read by id only if
 * the agent's transcript is used (lists of agents rarely do: they would otherwise copy every
 * transcript out of the database for nothing). Read so, a transcript is the agent's latest, which
 * may be newer than the rest of the page.
 */
export type ListedAgentRow = Omit<AgentRow, "transcript">;
export const LISTED_AGENT_COLUMNS = "id, doc, state";
/** Decoded agent documents kept for reading again. @default 512 (a few pages of agents and the runs under way; ~3 KiB each) */
export const DECODED_AGENTS_KEPT = 512;

/** Writes, reads and patches of agent rows, on one connection's statements. */
export const createAgentRows = (db: Database.Database, sql: Statements) => {
  const documentOf = createDecodedDocuments<Agent>(DECODED_AGENTS_KEPT);
  /** The agent's document (decoded once while it stays the same) with its state column applied. */
  const agentDoc = (row: Omit<AgentRow, "transcript">): Agent => {
    const doc = documentOf(row.id, row.doc);
    return row.state === null ? doc : Object.assign(doc, { state: row.state });
  };
  /**
   * The agent of a row. Its transcript: the one in its document (an agent stored before the
   * transcript had a column), else the column's, `transcript()`, decoded when first read.
   */
  const toAgent = (row: Omit<AgentRow, "transcript">, transcript: (() => StoredDoc) | null): Agent => {
    const agent = agentDoc(row);
    return transcript === null || Object.hasOwn(agent, "transcript")
      ? agent
      : withLazyTranscript(agent, () => decodeDoc<readonly TranscriptEntry[]>(transcript()));
  };
  const decode = (row: AgentRow): Agent => {
    const { transcript } = row;
    return toAgent(row, transcript === null ? null : () => transcript);
  };
  const transcriptOf = (id: string): StoredDoc => {
    const row = sql("SELECT transcript FROM agents WHERE id = ?").get(id) as
      | { transcript: StoredDoc | null }
      | undefined;
    if (row?.transcript == null)
      throw new AppError(ErrorCode.Internal, `Agent ${id} has no stored transcript.`);
    return row.transcript;
  };
  const decodeListed = (row: ListedAgentRow): Agent => toAgent(row, () => transcriptOf(row.id));
  const insertAgent = (agent: Agent) => {
    const { id, tenantId, runId, role, ordinal, createdAt, state } = agent;
    const { transcript, ...rest } = agent;
    sql(
      "INSERT INTO agents (id, tenant_id, run_id, role, ordinal, created_at, doc, transcript, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ).run(
      id,
      tenantId,
      runId,
      role,
      ordinal,
      createdAt.getTime(),
      encodeDoc(rest, agentDocKind(state)),
      encodeDoc(transcript, "agent"),
      state,
    );
  };
  const readAgentRow = (tenantId: string, id: string) =>
    sql(`SELECT ${AGENT_COLUMNS} FROM agents WHERE id = ? AND tenant_id = ?`).get(id, tenantId) as
      | AgentRow
      | undefined;
  const readAgent = (tenantId: string, id: string): Agent | null => {
    const row = readAgentRow(tenantId, id);
    return row === undefined ? null : decode(row);
  };
  /** A patch of the state alone is written to its column: one statement, nothing decoded or deflated. */
  const patchAgentState = (tenantId: string, id: string, state: AgentState): boolean =>
    sql("UPDATE agents SET state = ? WHERE id = ? AND tenant_id = ?").run(state, id, tenantId).changes > 0;
  const rewriteAgent = db.transaction((tenantId: string, id: string, patch: AgentPatch) => {
    const row = readAgentRow(tenantId, id);
    if (row === undefined) return false;
    const { transcript, ...rest } = patch;
    // The document alone is rewritten; the transcript only when the patch replaces it.
    const doc: Omit<Agent, "transcript"> & { transcript?: unknown } = applyPatch(agentDoc(row), rest);
    if (transcript !== undefined) delete doc.transcript;
    sql("UPDATE agents SET doc = ?, transcript = ?, state = ? WHERE id = ?").run(
      encodeDoc(doc, agentDocKind(doc.state)),
      transcript === undefined ? row.transcript : encodeDoc(transcript, "agent"),
      doc.state,
      id,
    );
    return true;
  });
  const patchAgent = (tenantId: string, id: string, patch: AgentPatch): boolean => {
    const state = stateOnly(patch);
    return state === null
      ? rewriteAgent.immediate(tenantId, id, patch)
      : patchAgentState(tenantId, id, state);
  };

  return { insert: insertAgent, read: readAgent, patch: patchAgent, decode, decodeListed };
};
