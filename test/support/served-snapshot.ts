import {
  AgentsDocument,
  EvolutionRecordsDocument,
  ExperimentsDocument,
  GenePoolDocument,
  LedgerCheckpointDocument,
  OrchestrationDocument,
  OrchestrationEventLogDocument,
  OrchestrationsDocument,
  RulesDocument,
  RunProvenanceDocument,
} from "../../client/generated/graphql.js";
import { request } from "./graphql.js";
import { bearer } from "./keys.js";

/** A page size that reads a small fixture's lists in one page. */
const WHOLE_LIST = 100;

/**
 * Everything a tenant's client can read of its history through the API: runs with their agents, event
 * logs and provenance, the agents list, gene pool, experiments, rules, evolution records and the latest
 * checkpoint. Two snapshots of the same data are equal whatever store served them.
 */
export const servedSnapshot = async (url: string, key: string) => {
  const headers = bearer(key);
  const { orchestrations } = await request(url, OrchestrationsDocument, { first: WHOLE_LIST }, headers);
  const runs = [];
  for (const { node } of orchestrations.edges) {
    runs.push({
      run: await request(url, OrchestrationDocument, { id: node.id }, headers),
      events: await request(url, OrchestrationEventLogDocument, { id: node.id }, headers),
      provenance: await request(url, RunProvenanceDocument, { id: node.id }, headers),
    });
  }
  return {
    orchestrations,
    runs,
    agents: await request(url, AgentsDocument, { first: WHOLE_LIST }, headers),
    genePool: await request(url, GenePoolDocument, {}, headers),
    experiments: await request(url, ExperimentsDocument, { first: WHOLE_LIST }, headers),
    rules: await request(url, RulesDocument, { first: WHOLE_LIST }, headers),
    records: await request(url, EvolutionRecordsDocument, { first: WHOLE_LIST }, headers),
    checkpoint: await request(url, LedgerCheckpointDocument, {}, headers),
  };
};

export type ServedSnapshot = Awaited<ReturnType<typeof servedSnapshot>>;
