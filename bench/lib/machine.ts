import { execFileSync } from "node:child_process";
import { availableParallelism, cpus, loadavg, release, totalmem, type } from "node:os";

/** What the numbers were measured on. */
export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly os: string;
  /** Soft limit on open files (ulimit -n) of the benchmark process. */
  readonly openFileLimit: number | null;
  /** Short commit of the work tree, "+dirty" when it has uncommitted changes. */
  readonly commit: string | null;
  /** ISO date and time of the measurement. */
  readonly date: string;
  /** 1-minute load average when the benchmark started: other work on the machine skews timings. */
  readonly loadAverage: number;
}

const BYTES_PER_GIB = 1024 ** 3;

const run = (cmd: string, args: readonly string[]): string | null => {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
};

/** Soft limit on open files of this process (as inherited by a child shell). */
export const openFileLimit = (): number | null => {
  const text = run("sh", ["-c", "ulimit -n"]);
  const n = Number(text);
  return text === null || !Number.isFinite(n) ? null : n;
};

export const machineInfo = (): MachineInfo => {
  const head = run("git", ["rev-parse", "--short", "HEAD"]);
  const dirty = run("git", ["status", "--porcelain", "--untracked-files=no"]);
  return {
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    cores: availableParallelism(),
    memoryGiB: Math.round((totalmem() / BYTES_PER_GIB) * 10) / 10,
    node: process.version,
    os: `${type()} ${release()}`,
    openFileLimit: openFileLimit(),
    commit: head === null ? null : `${head}${dirty ? "+dirty" : ""}`,
    date: new Date().toISOString(),
    loadAverage: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
};
