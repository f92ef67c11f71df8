import { Field, Float, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { EVOLUTION_KINDS, type EvolutionKind } from "../domain/evolution.js";
import type { TraitName } from "../domain/genome.js";
import type { SuggestionSupport } from "../domain/reflection.js";
import type { AgentRole } from "../domain/run.js";
import { AgentRoleEnum, enumOf } from "./enums.js";
import { Genome, TraitValues } from "./genome.type.js";

export const EvolutionKindEnum = enumOf<EvolutionKind>(EVOLUTION_KINDS);
export const SuggestionSourceEnum = enumOf<"STATISTICS" | "REFLECTION">(["STATISTICS", "REFLECTION"]);
export const SuggestionSupportEnum = enumOf<SuggestionSupport>(["AGREED", "CONTESTED", "UNCORROBORATED"]);

registerEnumType(EvolutionKindEnum, {
  name: "EvolutionKind",
  description:
    "GENETIC: tournament, crossover, mutation. SELF_CORRECTING: trait changes learned from experiments.",
});
registerEnumType(SuggestionSourceEnum, { name: "SuggestionSource" });
registerEnumType(SuggestionSupportEnum, {
  name: "SuggestionSupport",
  description: "How the other source (statistics or LLM reflection) relates to a suggestion's direction.",
});

@ObjectType({ description: "Fitness a genome earned over every agent that ran with it." })
export class FitnessStats {
  @Field(() => Int)
  evaluations!: number;

  @Field(() => Float, { nullable: true, description: "Mean fitness; null before the first evaluation." })
  mean!: number | null;

  @Field(() => Float, { nullable: true })
  best!: number | null;

  @Field(() => Float, { nullable: true })
  last!: number | null;
}

@ObjectType({ description: "A role's gene pool in the caller's tenant." })
export class GenePoolEntry {
  @Field(() => AgentRoleEnum)
  role!: AgentRole;

  @Field(() => Genome, { description: "The genome the role's next agent runs with." })
  genome!: Genome;

  @Field(() => FitnessStats, { description: "Fitness of the current genome." })
  fitness!: FitnessStats;

  @Field(() => Int)
  generation!: number;

  @Field(() => Int, { description: "Genomes kept in the role's pool." })
  poolSize!: number;

  @Field(() => Int, { description: "Evolution steps that changed the role's genome so far." })
  historySize!: number;

  @Field(() => ID, { nullable: true, description: "The pool's best genome by mean fitness (never evicted)." })
  bestGenomeId!: string | null;

  @Field(() => Float, { nullable: true })
  bestMeanFitness!: number | null;
}

@ObjectType({ description: "Pearson r between a trait and fitness over the tenant's experiments." })
export class TraitCorrelation {
  @Field(() => String)
  trait!: TraitName;

  @Field(() => Float)
  correlation!: number;

  @Field(() => AgentRoleEnum, { nullable: true, description: "The role the experiments were restricted to." })
  role!: AgentRole | null;

  @Field(() => Int)
  sampleSize!: number;
}

@ObjectType({
  description: "One agent result remembered for self-correction: the genome it ran with and its fitness.",
})
export class Experiment {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  orchestrationId!: string;

  @Field(() => ID)
  agentId!: string;

  @Field(() => AgentRoleEnum)
  role!: AgentRole;

  @Field(() => TraitValues)
  traits!: TraitValues;

  @Field(() => Float)
  fitness!: number;

  @Field()
  recordedAt!: Date;
}

@ObjectType({ description: "A rule consolidated from experiments; the most confident guide later agents." })
export class OptimizationRule {
  @Field(() => ID)
  id!: string;

  @Field()
  description!: string;

  @Field(() => [String])
  traits!: string[];

  @Field(() => Float)
  confidence!: number;

  @Field(() => Int, { description: "Experiments the consolidation that produced it looked at." })
  sourceExperimentCount!: number;

  @Field()
  createdAt!: Date;
}

@ObjectType({ description: "A trait change applied by self-correction, with its evidence." })
export class TraitAdjustment {
  @Field(() => String)
  trait!: TraitName;

  @Field(() => Float)
  from!: number;

  @Field(() => Float)
  to!: number;

  @Field(() => Float)
  confidence!: number;

  @Field(() => SuggestionSourceEnum)
  source!: "STATISTICS" | "REFLECTION";

  @Field(() => SuggestionSupportEnum)
  support!: SuggestionSupport;

  @Field(() => Float, { nullable: true })
  correlation!: number | null;
}

@ObjectType({ description: "One change to a role's current genome." })
export class EvolutionRecord {
  @Field(() => ID)
  id!: string;

  @Field(() => ID, { description: "The run after which the change was made." })
  orchestrationId!: string;

  @Field(() => EvolutionKindEnum)
  kind!: EvolutionKind;

  @Field(() => AgentRoleEnum)
  role!: AgentRole;

  @Field(() => TraitValues)
  before!: TraitValues;

  @Field(() => TraitValues)
  after!: TraitValues;

  @Field(() => [ID])
  parentGenomeIds!: string[];

  @Field(() => ID, { description: "The role's new current genome." })
  offspringGenomeId!: string;

  @Field(() => Int)
  generation!: number;

  @Field({ description: "Why this change, and for a fallback why self-correction applied nothing." })
  reason!: string;

  @Field(() => [TraitAdjustment])
  adjustments!: TraitAdjustment[];

  @Field()
  at!: Date;
}
