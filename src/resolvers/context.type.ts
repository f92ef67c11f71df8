import type { EvolutionService } from "../orchestrator/evolution/create-evolution.js";
import type { Orchestrator } from "../orchestrator/orchestrator.js";
import type { ProvenanceService } from "../orchestrator/provenance-service.js";
import type { Store } from "../ports/stores.js";
import type { Loaders } from "./loaders.js";

/** What every resolver gets: the caller's tenant and the services it may use. Built per request / socket. */
export interface GraphQLContext {
  readonly tenantId: string;
  /** The caller's API key id (null for the development default): recorded with review decisions. */
  readonly keyId: string | null;
  readonly orchestrator: Orchestrator;
  readonly store: Pick<Store, "runs" | "agents" | "events">;
  /** Gene pools, correlations, experiments, rules and the live evolution stream of the caller's tenant. */
  readonly evolution: EvolutionService;
  /** Proofs, checkpoints, the ledger key and anchor receipts. */
  readonly provenance: ProvenanceService;
  /** Per-request batching of related reads (no N+1 round trips from list fields). */
  readonly loaders: Loaders;
}
