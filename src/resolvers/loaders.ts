import DataLoader from "dataloader";
import type { AnchorReceipt } from "../domain/anchor.js";
import type { Agent } from "../domain/run.js";
import type { InclusionProofView, ProvenanceService } from "../orchestrator/provenance-service.js";
import type { AgentStore } from "../ports/stores.js";

/**
 * Per-request batching: every field that resolves related records of many parents collects its
 * keys during one tick and reads them in one round trip. Built for each HTTP request and each
 * WebSocket operation, so nothing is cached across callers.
 */
export interface Loaders {
  /** A run's agents in leaf order; one store query for all the runs of a page. */
  readonly agentsByRun: DataLoader<string, Agent[]>;
  /** Agents by id; one store query for all the ids asked for in a tick. */
  readonly agentById: DataLoader<string, Agent | null>;
  /** An agent result's inclusion proof, keyed `runId agentId`; one read per run for all its agents. */
  readonly inclusionProof: DataLoader<string, InclusionProofView | null>;
  /** A run's anchor receipts, keyed by run id. */
  readonly receiptsByRun: DataLoader<string, AnchorReceipt[]>;
}

const PROOF_KEY_SEPARATOR = " ";
export const proofKey = (runId: string, agentId: string): string =>
  `${runId}${PROOF_KEY_SEPARATOR}${agentId}`;

export const createLoaders = (deps: {
  tenantId: string;
  agents: Pick<AgentStore, "listByRuns" | "getMany">;
  provenance: Pick<ProvenanceService, "inclusionProofs" | "receipts">;
}): Loaders => ({
  agentsByRun: new DataLoader(async (runIds) => {
    const byRun = new Map<string, Agent[]>(runIds.map((id) => [id, []]));
    for (const agent of await deps.agents.listByRuns(deps.tenantId, runIds))
      byRun.get(agent.runId)?.push(agent);
    return runIds.map((id) => byRun.get(id) ?? []);
  }),
  agentById: new DataLoader(async (ids) => {
    const found = new Map((await deps.agents.getMany(deps.tenantId, ids)).map((a) => [a.id, a]));
    return ids.map((id) => found.get(id) ?? null);
  }),
  inclusionProof: new DataLoader(async (keys) => {
    const wanted = new Map<string, string[]>();
    for (const key of keys) {
      const [runId = "", agentId = ""] = key.split(PROOF_KEY_SEPARATOR);
      wanted.set(runId, [...(wanted.get(runId) ?? []), agentId]);
    }
    const proofs = new Map<string, InclusionProofView | null>();
    await Promise.all(
      [...wanted].map(async ([runId, agentIds]) => {
        const found = await deps.provenance.inclusionProofs(deps.tenantId, runId, agentIds);
        for (const [i, agentId] of agentIds.entries()) proofs.set(proofKey(runId, agentId), found[i] ?? null);
      }),
    );
    return keys.map((key) => proofs.get(key) ?? null);
  }),
  receiptsByRun: new DataLoader((runIds) =>
    Promise.all(runIds.map((runId) => deps.provenance.receipts(deps.tenantId, runId))),
  ),
});
