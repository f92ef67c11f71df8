/**
 * Evolution efficacy benchmark (issue 5 item 7): OFF, GENETIC and SELF_CORRECTING, each for `runs` runs in
 * its own tenant, against a scripted LLM whose shadow agreement and confidence peak at temperature ≈ 0.45
 * and top_p ≈ 0.9. Prints the fitness curve of every mode (run confidence per run), the mean over the last
 * 10 runs, where the genomes ended, and, with a seed count > 1, how often each mode beat OFF.
 * The baseline (OFF) is measured in the same process. Issue 9: the result (target: each evolving mode's
 * last-10 mean above OFF's, and its genomes closer to the optimum) goes to bench/results; --full runs
 * 12 seeds unless a seed count is given.
 *
 *   npx tsc -p tsconfig.bench.json && node dist/bench/evolution-efficacy.js [--full] [runs=50] [seed=2026] [seeds=1]
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
import { benchMain } from "./lib/main.js";
import { type Check, check } from "./lib/report.js";

const MODES: readonly EvolutionMode[] = ["OFF", "GENETIC", "SELF_CORRECTING"];
/** Seeds of a multi-seed run are this far apart. */
const SEED_STRIDE = 1_000;
/** Width of the sparkline-like bar drawn per run. */
const BAR_WIDTH = 40;
/** Seeds of a --full run. */
const FULL_SEEDS = 12;

const f3 = (x: number) => x.toFixed(3);
const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
const bar = (x: number) => "#".repeat(Math.round(x * BAR_WIDTH)).padEnd(BAR_WIDTH);
const out = (line = "") => process.stdout.write(`${line}\n`);

await benchMain("evolution-efficacy", async ({ full, args }) => {
  const runs = Number(args[0] ?? EFFICACY_RUNS);
  const seed = Number(args[1] ?? EFFICACY_SEED);
  const seeds = Number(args[2] ?? (full ? FULL_SEEDS : 1));
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
    out(
      `${String(i + 1).padStart(3)}  ${values.map((v) => f3(v).padEnd(16)).join("")} ${bar(values[2] ?? 0)}`,
    );
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

  const seedTails: Record<string, number> = {};
  let seedWins = { GENETIC: 0, SELF_CORRECTING: 0 };
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
    for (const m of MODES) seedTails[m] = mean(tails[m] ?? []);
    seedWins = wins;
    out(
      `  runs where the mode beat OFF: GENETIC ${wins.GENETIC}/${seeds}, SELF_CORRECTING ${wins.SELF_CORRECTING}/${seeds}`,
    );
  }
  out();
  out(`took ${Math.round(performance.now() - started)} ms`);

  const off = by("OFF");
  const checks: Check[] = (["GENETIC", "SELF_CORRECTING"] as const).flatMap((m) => [
    check({
      metric: `${m}: mean fitness of the last ${EFFICACY_TAIL} of ${runs} runs (seed ${seed})`,
      target: "> OFF",
      value: by(m).tailMean,
      unit: "",
      baseline: off.tailMean,
      pass: by(m).tailMean > off.tailMean,
    }),
    check({
      metric: `${m}: final genomes' closeness to the optimum`,
      target: "> OFF",
      value: by(m).finalAffinity,
      unit: "",
      baseline: off.finalAffinity,
      pass: by(m).finalAffinity > off.finalAffinity,
    }),
    ...(seeds > 1
      ? [
          check({
            metric: `${m}: runs over ${seeds} seeds where it beat OFF`,
            value: seedWins[m],
            unit: `of ${seeds}`,
          }),
        ]
      : []),
  ]);
  return {
    baseline: "evolution OFF: the same runs, tasks and scripted LLM, with the founder genomes throughout",
    checks,
    tables: [
      {
        title: `Fitness per run (run confidence), every ${Math.max(1, Math.floor(runs / 10))}th run`,
        header: ["run", ...MODES],
        rows: Array.from({ length: runs }, (_, i) => i)
          .filter((i) => i % Math.max(1, Math.floor(runs / 10)) === 0 || i === runs - 1)
          .map((i) => [String(i + 1), ...MODES.map((m) => f3(by(m).fitness[i] ?? 0))]),
      },
      {
        title: "Summary per mode",
        header: [
          "mode",
          "mean (all)",
          `mean (last ${EFFICACY_TAIL})`,
          "final closeness",
          "GENETIC / SELF_CORRECTING steps",
          ...(seeds > 1 ? [`mean of last-${EFFICACY_TAIL} means over ${seeds} seeds`] : []),
        ],
        rows: curves.map((c) => [
          c.mode,
          f3(mean(c.fitness)),
          f3(c.tailMean),
          f3(c.finalAffinity),
          `${c.steps.GENETIC} / ${c.steps.SELF_CORRECTING}`,
          ...(seeds > 1 ? [f3(seedTails[c.mode] ?? 0)] : []),
        ]),
      },
    ],
    notes: [
      `Scripted LLM whose agreement peaks at temperature ${EFFICACY_OPTIMUM.temperature}, top_p ${EFFICACY_OPTIMUM.topP}; the founder genome's closeness is ${f3(efficacyAffinity(toLlmParams(DEFAULT_TRAITS, 400)))}.`,
    ],
    data: { runs, seed, seeds, curves, seedTails, seedWins },
  };
});
