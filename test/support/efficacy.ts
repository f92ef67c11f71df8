import { type Traits, toLlmParams } from "../../src/domain/genome.js";
import type { AgentRole, EvolutionMode } from "../../src/domain/run.js";
import type { EvolutionOptions } from "../../src/orchestrator/evolution/context.js";
import {
  createEfficacyLlm,
  EFFICACY_OPTIMUM,
  type EfficacyLlmOptions,
  efficacyAffinity,
} from "../fakes/efficacy-llm.js";
import { createEvolvingOrchestrator } from "./evolution.js";

/** The efficacy scenario's defaults (issue 5 item 7). */
export const EFFICACY_RUNS = 50;
export const EFFICACY_SEED = 2026;
/** Runs at the end whose mean fitness is compared. */
export const EFFICACY_TAIL = 10;
/** What the run's agents' temperature/top_p are judged by; also the base the genome maps max_tokens from. */
const BASE_MAX_TOKENS = 400;

export interface EfficacyCurve {
  readonly mode: EvolutionMode;
  /** Run confidence (the mean fitness of its agents), per run. */
  readonly fitness: readonly number[];
  /** Mean fitness over the last EFFICACY_TAIL runs. */
  readonly tailMean: number;
  /** Each role's current traits at the end. */
  readonly finalTraits: Readonly<Record<AgentRole, Traits>>;
  /** Mean over roles of the final genomes' affinity to the optimum (1 = at the optimum). */
  readonly finalAffinity: number;
  /** Evolution records by kind. */
  readonly steps: Readonly<Record<"GENETIC" | "SELF_CORRECTING", number>>;
}

export interface EfficacyOptions {
  readonly runs?: number;
  readonly seed?: number;
  readonly evolution?: EvolutionOptions;
  readonly llm?: EfficacyLlmOptions;
}

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);

/**
 * Runs the efficacy scenario: for each mode, `runs` runs of distinct tasks in its own tenant (run i gets
 * seed `seed + i`) against the efficacy fake, on one orchestrator. Deterministic.
 */
export const runEfficacyScenario = async (
  modes: readonly EvolutionMode[],
  options: EfficacyOptions = {},
): Promise<EfficacyCurve[]> => {
  const runs = options.runs ?? EFFICACY_RUNS;
  const seed = options.seed ?? EFFICACY_SEED;
  const t = await createEvolvingOrchestrator(createEfficacyLlm(options.llm), {
    ...(options.evolution ? { evolution: options.evolution } : {}),
  });
  try {
    const curves: EfficacyCurve[] = [];
    for (const mode of modes) {
      const tenantId = `efficacy-${mode.toLowerCase()}`;
      const fitness: number[] = [];
      const steps = { GENETIC: 0, SELF_CORRECTING: 0 };
      for (let i = 0; i < runs; i++) {
        const { run, events } = await t.run(tenantId, {
          query: `Efficacy task ${i}`,
          evolution: mode,
          seed: seed + i,
        });
        if (run.status !== "SUCCEEDED") throw new Error(`run ${i} of ${mode} ended ${run.status}`);
        fitness.push(run.confidence ?? 0);
        for (const e of events) if (e.type === "EvolutionApplied") steps[e.record.kind]++;
      }
      const pool = await t.evolution.service.genePool(tenantId);
      const finalTraits = Object.fromEntries(pool.map((p) => [p.role, p.genome.traits])) as Record<
        AgentRole,
        Traits
      >;
      curves.push({
        mode,
        fitness,
        tailMean: mean(fitness.slice(-EFFICACY_TAIL)),
        finalTraits,
        finalAffinity: mean(pool.map((p) => efficacyAffinity(toLlmParams(p.genome.traits, BASE_MAX_TOKENS)))),
        steps,
      });
    }
    return curves;
  } finally {
    await t.close();
  }
};

export { EFFICACY_OPTIMUM };
