/**
 * Runs the benchmarks of issue 9, each in a process of its own (a clean heap, --expose-gc), then
 * regenerates BENCHMARKS.md from bench/results/*.json.
 *
 *   npm run bench [-- --full] [-- --only orchestration,fanout] [-- --md-only] [-- --no-write]
 *
 * --no-write runs the benchmarks without writing anything: no bench/results/*.json, no BENCHMARKS.md.
 *
 * Quick mode (the default) takes a few minutes; a benchmark that overruns its limit is killed and
 * reported. Exits 1 when a benchmark failed (a missed target is reported, not a failure).
 */
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Failure, renderBenchmarksMd } from "./lib/markdown.js";
import { BENCHMARKS } from "./lib/registry.js";
import { type BenchResult, fmt, readResult, repoRoot } from "./lib/report.js";
import { nowMs } from "./lib/stats.js";

/** Time a benchmark process gets beyond its own watchdog before it is killed from here. */
const KILL_GRACE_MS = 15_000;

const argv = process.argv.slice(2);
const full = argv.includes("--full");
const mdOnly = argv.includes("--md-only");
const write = !argv.includes("--no-write");
const onlyArg =
  argv.find((a) => a.startsWith("--only="))?.slice("--only=".length) ?? argv[argv.indexOf("--only") + 1];
const only = argv.some((a) => a.startsWith("--only")) && onlyArg ? onlyArg.split(",") : null;
const unknown = only?.filter((id) => !BENCHMARKS.some((b) => b.id === id)) ?? [];
if (unknown.length > 0) {
  process.stderr.write(
    `unknown benchmark(s): ${unknown.join(", ")}; known: ${BENCHMARKS.map((b) => b.id).join(", ")}\n`,
  );
  process.exit(2);
}
const selected = BENCHMARKS.filter((b) => only === null || only.includes(b.id));

const runOne = (file: string, timeoutMs: number): Promise<string | null> =>
  new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        "--expose-gc",
        join(repoRoot(), "dist", "bench", file),
        ...(full ? ["--full"] : []),
        ...(write ? [] : ["--no-write"]),
      ],
      { stdio: "inherit" },
    );
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs + KILL_GRACE_MS);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve(code === 0 ? null : signal ? `killed by ${signal}` : `exit code ${code}`);
    });
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve(e.message);
    });
  });

const failures: Failure[] = [];
const started = nowMs();
if (!mdOnly) {
  for (const b of selected) {
    process.stdout.write(`\n### ${b.title} (${full ? "full" : "quick"})\n`);
    const t0 = nowMs();
    const failed = await runOne(b.file, b.timeoutMs[full ? "full" : "quick"]);
    if (failed !== null) failures.push({ id: b.id, reason: failed });
    process.stdout.write(`### ${b.id}: ${failed ?? "done"} in ${fmt((nowMs() - t0) / 1000, 1)} s\n`);
  }
}

const results = new Map<string, BenchResult>();
for (const b of BENCHMARKS) {
  const r = await readResult(b.id);
  if (r !== null) results.set(b.id, r);
}
if (write)
  await writeFile(join(repoRoot(), "BENCHMARKS.md"), await renderBenchmarksMd(BENCHMARKS, results, failures));

const misses = [...results.values()].flatMap((r) =>
  r.checks.filter((c) => c.pass === false).map((c) => `${r.id}: ${c.metric}`),
);
process.stdout.write(
  `\n${write ? "BENCHMARKS.md regenerated" : "Nothing written (--no-write)"} (${results.size} of ${BENCHMARKS.length} benchmarks have results) in ${fmt((nowMs() - started) / 1000, 1)} s.\n`,
);
// Under --no-write the results on disk are not this run's: their misses would mislead.
if (write && misses.length > 0)
  process.stdout.write(`Targets missed:\n${misses.map((m) => `  - ${m}`).join("\n")}\n`);
if (failures.length > 0) {
  process.stdout.write(`Failed:\n${failures.map((f) => `  - ${f.id}: ${f.reason}`).join("\n")}\n`);
  process.exit(1);
}
