import { machineInfo } from "./machine.js";
import { BENCHMARKS } from "./registry.js";
import { type BenchMode, type BenchResult, printResult, writeResult } from "./report.js";
import { nowMs } from "./stats.js";

export interface BenchContext {
  readonly mode: BenchMode;
  readonly full: boolean;
  /** Arguments other than --full / --quick / --no-write, for the benchmark's own options. */
  readonly args: readonly string[];
}

export type BenchBody = Pick<BenchResult, "baseline" | "checks" | "tables" | "notes" | "data">;

/**
 * Entry point of one benchmark process: parses --full (default quick), arms a watchdog that ends the
 * process if the benchmark overruns its limit, runs it, prints the result and writes
 * bench/results/<id>.json (unless --no-write), then exits so that no handle can keep it alive.
 */
export const benchMain = async (id: string, body: (ctx: BenchContext) => Promise<BenchBody>) => {
  const entry = BENCHMARKS.find((b) => b.id === id);
  if (entry === undefined) throw new Error(`unknown benchmark ${id}`);
  const argv = process.argv.slice(2);
  const full = argv.includes("--full");
  const write = !argv.includes("--no-write");
  const mode: BenchMode = full ? "full" : "quick";
  const limit = entry.timeoutMs[mode];
  const watchdog = setTimeout(() => {
    process.stderr.write(`${id}: still running after ${limit} ms; stopping.\n`);
    process.exit(3);
  }, limit);
  watchdog.unref();
  const started = nowMs();
  try {
    const result: BenchResult = {
      id,
      title: entry.title,
      mode,
      machine: machineInfo(),
      ...(await body({
        mode,
        full,
        args: argv.filter((a) => !["--full", "--quick", "--no-write"].includes(a)),
      })),
      durationMs: Math.round(nowMs() - started),
    };
    printResult(result);
    if (write) process.stdout.write(`wrote ${await writeResult(result)}\n`);
    process.exit(0);
  } catch (e) {
    process.stderr.write(`${id} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  }
};
