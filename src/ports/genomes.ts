import type { Genome } from "../domain/genome.js";
import type { AgentRole } from "../domain/run.js";

/** Where a run's agents get their genome: the tenant's current genome for the role. */
export interface GenomeSource {
  current(tenantId: string, role: AgentRole): Promise<Genome>;
}
