/**
 * Evolution efficacy benchmark (issue 5 item 7): OFF, GENETIC and SELF_CORRECTING, each for `runs` runs in
 * its own tenant, against a scripted LLM whose shadow agreement and confidence peak at temperature ≈ 0.45
 * and top_p ≈ 0.9. Prints the fitness curve of every mode (run confidence per run), the mean over the last
 * 10 runs, where the genomes ended, and, with a seed count > 1, how often each mode beat OFF.
 * The baseline (OFF) is measured in the same process.
 *
 *   npx tsc -p tsconfig.bench.json && node dist/bench/evolution-efficacy.js [runs=50] [seed=2026] [seeds=1]
 */
import { DEFAULT_TRAITS, toLlmParams } from "../src/domain/genome.js";
import type { EvolutionMode } from "../src/domain/run.js";
import { EFFICACY_OPTIMUM, efficacyAffinity } from "../test/fakes/efficacy-llm.js";
import {
  EFFICACY_RUNS,
  EFFICACY_SEED,
  EFFICACY_TAIL,
  type EfficacyCurve,
  runEfficacyScenario,
} from "../test/support/efficacy.js";

const MODES: readonly EvolutionMode[] = ["OFF", "GENETIC", "SELF_CORRECTING"];
/** Seeds of a multi-seed run are this far apart. */
const SEED_STRIDE = 1_000;
/** Width of the sparkline-like bar drawn per run. */
const BAR_WIDTH = 40;

const runs = Number(process.argv[2] ?? EFFICACY_RUNS);
const seed = Number(process.argv[3] ?? EFFICACY_SEED);
const seeds = Number(process.argv[4] ?? 1);
const f3 = (x: number) => x.toFixed(3);
const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
const bar = (x: number) => "#".repeat(Math.round(x * BAR_WIDTH)).padEnd(BAR_WIDTH);
const out = (line = "") => process.stdout.write(`${line}\n`);

const started = performance.now();
const curves = await runEfficacyScenario(MODES, { runs, seed });
const by = (mode: EvolutionMode) => curves.find((c) => c.mode === mode) as EfficacyCurve;

out(
  `Evolution efficacy: ${runs} runs per mode, seed ${seed}; optimum temperature ${EFFICACY_OPTIMUM.temperature}, top_p ${EFFICACY_OPTIMUM.topP}`,
);
out(
  `Founder (all traits 0.5) affinity to the optimum: ${f3(efficacyAffinity(toLlmParams(DEFAULT_TRAITS, 400)))}`,
);
out();
out(`run  ${MODES.map((m) => m.padEnd(16)).join("")} (bar: SELF_CORRECTING)`);
for (let i = 0; i < runs; i++) {
  const values = MODES.map((m) => by(m).fitness[i] ?? 0);
  out(`${String(i + 1).padStart(3)}  ${values.map((v) => f3(v).padEnd(16)).join("")} ${bar(values[2] ?? 0)}`);
}
out();
out(
  `mode              mean(all)  mean(last ${EFFICACY_TAIL})  final affinity  steps (GENETIC/SELF_CORRECTING)`,
);
for (const c of curves) {
  out(
    `${c.mode.padEnd(17)} ${f3(mean(c.fitness)).padEnd(10)} ${f3(c.tailMean).padEnd(14)} ${f3(c.finalAffinity).padEnd(15)} ${c.steps.GENETIC}/${c.steps.SELF_CORRECTING}`,
  );
}
out();
out("final genomes (exploration, precision; optimum 0.25, 0.20):");
for (const c of curves) {
  const roles = Object.entries(c.finalTraits).map(
    ([role, t]) => `${role} ${t.exploration.toFixed(2)}, ${t.precision.toFixed(2)}`,
  );
  out(`  ${c.mode.padEnd(16)} ${roles.join(" | ")}`);
}

if (seeds > 1) {
  const tails: Record<string, number[]> = Object.fromEntries(MODES.map((m) => [m, []]));
  let wins = { GENETIC: 0, SELF_CORRECTING: 0 };
  for (let k = 0; k < seeds; k++) {
    const each = await runEfficacyScenario(MODES, { runs, seed: seed + k * SEED_STRIDE });
    const tail = (m: EvolutionMode) => (each.find((c) => c.mode === m) as EfficacyCurve).tailMean;
    for (const m of MODES) tails[m]?.push(tail(m));
    wins = {
      GENETIC: wins.GENETIC + (tail("GENETIC") > tail("OFF") ? 1 : 0),
      SELF_CORRECTING: wins.SELF_CORRECTING + (tail("SELF_CORRECTING") > tail("OFF") ? 1 : 0),
    };
  }
  out();
  out(`over ${seeds} seeds (${seed}, ${seed + SEED_STRIDE}, …): mean of last-${EFFICACY_TAIL} means`);
  for (const m of MODES) out(`  ${m.padEnd(16)} ${f3(mean(tails[m] ?? []))}`);
  out(
    `  runs where the mode beat OFF: GENETIC ${wins.GENETIC}/${seeds}, SELF_CORRECTING ${wins.SELF_CORRECTING}/${seeds}`,
  );
}
out();
out(`took ${Math.round(performance.now() - started)} ms`);
