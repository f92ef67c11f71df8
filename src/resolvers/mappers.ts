import type { AnchorReceipt } from "../domain/anchor.js";
import { answerChanged, modelsCalled } from "../domain/answer-change.js";
import type { RunEvent } from "../domain/events.js";
import type { Genome, LlmParams } from "../domain/genome.js";
import { copyAgent } from "../domain/lazy-transcript.js";
import type { Review } from "../domain/review.js";
import { type Agent, type AgentResult, agentLlmParams, type Run } from "../domain/run.js";
import { toEvolutionRecordView } from "./evolution.mappers.js";

/** Domain → GraphQL shapes. Only renames and derived fields; no logic. */

/** `llmParams`: what the agent's requests carried; null for a genome no agent has run with here. */
export const toGenomeView = (g: Genome, llmParams: LlmParams | null) => ({
  id: g.id,
  generation: g.generation,
  parentIds: [...g.parentIds],
  ...g.traits,
  llmParams,
});

/**
 * The agent's fields as stored, plus the derived ones. A store may decode an agent's transcript only
 * when it is read (domain/lazy-transcript.ts): the view keeps it so, and `models`, which
 * needs it, is computed only when a query asks for it.
 */
export const toAgentView = (a: Agent) => {
  const view = Object.assign(copyAgent(a), {
    orchestrationId: a.runId,
    genome: toGenomeView(a.genome, agentLlmParams(a)),
    result: a.result && toResultView(a.result, a),
  });
  return Object.defineProperty(view, "models", {
    enumerable: true,
    get: () => modelsCalled(a.transcript ?? []),
  }) as typeof view & { readonly models: string[] };
};

/** The ids let AgentResult.inclusionProof find the result's run and leaf. */
const toResultView = (r: AgentResult, a: { readonly id: string; readonly runId: string }) => ({
  ...r,
  answerChanged: answerChanged(r),
  agentId: a.id,
  runId: a.runId,
});

export const toRunView = (r: Run) => ({
  ...r,
  leafOrder: [...r.leafOrder],
  config: { ...r.config, budget: r.config.budget ?? null },
});

export const toReviewView = (r: Review) => ({ ...r, orchestrationId: r.runId });

/**
 * What an event names, loaded (see eventView): the agent of an AgentStarted (as it started) or an
 * AgentCompleted, the receipt of an AnchorRecorded.
 */
export interface EventRecords {
  readonly agent?: Agent;
  readonly receipt?: AnchorReceipt;
}

/** An event's GraphQL shape, with the records it names. */
export const toEventView = (e: RunEvent, records: EventRecords = {}) => {
  const base = { type: e.type, orchestrationId: e.runId, seq: e.seq, at: e.at };
  switch (e.type) {
    case "RunStarted":
      return { ...base, query: e.query };
    case "RunResumed":
      return { ...base, reusedAgentIds: [...e.reusedAgentIds], reason: e.reason ?? null };
    case "AgentStarted":
      return { ...base, agent: toAgentView(named(e, records.agent)) };
    case "DebateRoundCompleted":
      return { ...base, agentId: e.agentId, round: e.round.round, debateRound: e.round };
    case "AgentCompleted": {
      const completed = named(e, records.agent);
      if (completed.result === null) throw new Error(`AgentCompleted ${e.agentId} mapped without a result`);
      return {
        ...base,
        agent: toAgentView(completed),
        result: toResultView(completed.result, { id: completed.id, runId: e.runId }),
      };
    }
    case "AnchorRecorded":
      return { ...base, receipt: named(e, records.receipt) };
    case "AgentFailed":
      return { ...base, agent: toAgentView(e.agent), error: e.error };
    case "ReviewRequested":
    case "ReviewSubmitted":
      return { ...base, review: toReviewView(e.review) };
    case "EvolutionApplied":
      return { ...base, record: toEvolutionRecordView(e.record) };
    case "BudgetExceeded":
      return { ...base, scope: e.scope, limit: e.limit, used: e.used, reserved: e.reserved };
    case "RunFinished":
      return {
        ...base,
        status: e.status,
        response: e.response,
        confidence: e.confidence,
        merkleRoot: e.merkleRoot,
        traceRoot: e.traceRoot,
        error: e.error,
      };
  }
};

const named = <T>(e: RunEvent, record: T | undefined): T => {
  if (record === undefined)
    throw new Error(`${e.type} ${e.runId}#${e.seq} mapped without the record it names`);
  return record;
};
