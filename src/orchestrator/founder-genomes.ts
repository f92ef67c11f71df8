import { DEFAULT_TRAITS, type Genome } from "../domain/genome.js";
import type { AgentRole } from "../domain/run.js";
import type { GenomeSource } from "../ports/genomes.js";

/** The genome every role starts from: all traits at 0.5, generation 0. */
export const founderGenome = (role: AgentRole): Genome => ({
  id: `founder-${role.toLowerCase()}`,
  traits: DEFAULT_TRAITS,
  parentIds: [],
  generation: 0,
});

/** Genome source for runs without evolution: every agent gets its role's founder genome. */
export const founderGenomes: GenomeSource = { current: async (_tenantId, role) => founderGenome(role) };
