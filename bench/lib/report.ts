import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { MachineInfo } from "./machine.js";

/** One measured figure, with its target (if the issue sets one) and its same-run baseline. */
export interface Check {
  readonly metric: string;
  /** The target in words, e.g. "≤ 5 ms"; "—" when the figure is informational. */
  readonly target: string;
  readonly value: number;
  readonly unit: string;
  /** The baseline's figure in the same unit, measured in the same run; null when there is none. */
  readonly baseline: number | null;
  /** product / baseline (times, sizes) or product ÷ baseline throughput; null when there is no baseline. */
  readonly ratio: number | null;
  /** Whether the target is met; null when there is no target. */
  readonly pass: boolean | null;
}

export interface Table {
  readonly title: string;
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

export type BenchMode = "quick" | "full";

/** Everything one benchmark writes to bench/results/<id>.json. */
export interface BenchResult {
  readonly id: string;
  readonly title: string;
  readonly mode: BenchMode;
  readonly machine: MachineInfo;
  readonly durationMs: number;
  /** What the baseline is, in one sentence. */
  readonly baseline: string;
  readonly checks: readonly Check[];
  readonly tables: readonly Table[];
  readonly notes: readonly string[];
  /** Raw figures (percentiles, counts) for whoever reads the JSON. */
  readonly data: Record<string, unknown>;
}

/** The repository root: the nearest folder above this file that has a package.json. */
export const repoRoot = (): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("package.json not found above the benchmark");
    dir = up;
  }
  return dir;
};

export const resultsDir = (): string => join(repoRoot(), "bench", "results");

/** Formats a number with sensible precision for its size. */
export const fmt = (x: number | null | undefined, digits?: number): string => {
  if (x === null || x === undefined || Number.isNaN(x)) return "—";
  if (!Number.isFinite(x)) return x > 0 ? "∞" : "−∞";
  const abs = Math.abs(x);
  if (digits === undefined && abs > 0 && abs < 0.01) return x.toPrecision(2);
  const d = digits ?? (abs >= 1000 ? 0 : abs >= 100 ? 1 : abs >= 1 ? 2 : 3);
  return x.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
};

export const withUnit = (x: number | null, unit: string): string =>
  x === null ? "—" : `${fmt(x)}${unit === "" ? "" : ` ${unit}`}`;

export const ratioText = (r: number | null): string =>
  r === null ? "—" : `${fmt(r, r >= 100 ? 0 : r >= 0.01 ? 2 : undefined)}×`;

export const passText = (p: boolean | null): string => (p === null ? "info" : p ? "**pass**" : "**MISS**");

/** A check from its parts; `ratio` defaults to value / baseline. */
export const check = (c: {
  metric: string;
  target?: string;
  value: number;
  unit: string;
  baseline?: number | null;
  ratio?: number | null;
  pass?: boolean | null;
}): Check => {
  const baseline = c.baseline ?? null;
  return {
    metric: c.metric,
    target: c.target ?? "—",
    value: c.value,
    unit: c.unit,
    baseline,
    ratio: c.ratio !== undefined ? c.ratio : baseline === null || baseline === 0 ? null : c.value / baseline,
    pass: c.pass ?? null,
  };
};

const pad = (cells: readonly string[], widths: readonly number[]) =>
  cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ");

/** A plain-text table for the terminal. */
export const textTable = (header: readonly string[], rows: readonly (readonly string[])[]): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  return [
    pad(header, widths),
    pad(
      widths.map((w) => "-".repeat(w)),
      widths,
    ),
    ...rows.map((r) => pad(r, widths)),
  ]
    .map((l) => l.trimEnd())
    .join("\n");
};

/** A Markdown table. */
export const mdTable = (header: readonly string[], rows: readonly (readonly string[])[]): string => {
  const esc = (s: string) => s.replaceAll("|", "\\|");
  return [
    `| ${header.map(esc).join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ].join("\n");
};

export const CHECK_HEADER = ["metric", "target", "measured", "baseline", "ratio", "result"] as const;

export const checkRow = (c: Check): string[] => [
  c.metric,
  c.target,
  withUnit(c.value, c.unit),
  withUnit(c.baseline, c.unit),
  ratioText(c.ratio),
  passText(c.pass).replaceAll("*", ""),
];

/** Prints a result to the terminal. */
export const printResult = (r: BenchResult): void => {
  const lines = [
    "",
    `== ${r.title} (${r.mode}, ${fmt(r.durationMs / 1000, 1)} s)`,
    `baseline: ${r.baseline}`,
    textTable(CHECK_HEADER, r.checks.map(checkRow)),
  ];
  for (const t of r.tables) lines.push("", t.title, textTable(t.header, t.rows));
  for (const n of r.notes) lines.push(`- ${n}`);
  process.stdout.write(`${lines.join("\n")}\n`);
};

export const writeResult = async (r: BenchResult): Promise<string> => {
  await mkdir(resultsDir(), { recursive: true });
  const file = join(resultsDir(), `${r.id}.json`);
  await writeFile(file, `${JSON.stringify(r, null, 2)}\n`);
  return file;
};

export const readResult = async (id: string): Promise<BenchResult | null> => {
  try {
    return JSON.parse(await readFile(join(resultsDir(), `${id}.json`), "utf8")) as BenchResult;
  } catch {
    return null;
  }
};
