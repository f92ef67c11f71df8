/** The benchmarks of issue 9, in report order. `file` is the compiled entry under dist/bench/. */
export interface BenchEntry {
  readonly id: string;
  readonly title: string;
  readonly file: string;
  /** The target(s), in words, for the summary. */
  readonly target: string;
  /** Hard limit on one run of the benchmark process, by mode; the runner kills it past this. */
  readonly timeoutMs: { readonly quick: number; readonly full: number };
}

const MINUTE = 60_000;

export const BENCHMARKS: readonly BenchEntry[] = [
  {
    id: "orchestration",
    title: "1. Orchestration overhead",
    file: "orchestration.js",
    target: "p50 ≤ 3 ms embedded, ≤ 25 ms MongoDB (FerretDB/SQLite)",
    timeoutMs: { quick: 3 * MINUTE, full: 8 * MINUTE },
  },
  {
    id: "critical-path",
    title: "2. Critical path vs theoretical",
    file: "critical-path.js",
    target: "run p50 ≤ streamed direct chain + 5 ms (L = 50 ms, R = 3)",
    timeoutMs: { quick: 2 * MINUTE, full: 6 * MINUTE },
  },
  {
    id: "fanout",
    title: "3. Subscription fan-out",
    file: "fanout.js",
    target: "≥ 70 % of bare graphql-ws throughput; p99 ≤ 100 ms at 1,000 subscribers",
    timeoutMs: { quick: 3 * MINUTE, full: 8 * MINUTE },
  },
  {
    id: "connections",
    title: "4. Idle WebSocket connections",
    file: "connections.js",
    target: "≤ 100 KB RSS per idle authenticated connection (5,000)",
    timeoutMs: { quick: 2 * MINUTE, full: 5 * MINUTE },
  },
  {
    id: "read-path",
    title: "5. Read path agents(first: 20)",
    file: "read-path.js",
    target: "HTTP req/s ≥ 50 % of in-process execute",
    timeoutMs: { quick: 2 * MINUTE, full: 5 * MINUTE },
  },
  {
    id: "merkle",
    title: "6. Merkle roots and proofs",
    file: "merkle.js",
    target: "root ≤ 2 × node:crypto; ≤ 50 µs per verification",
    timeoutMs: { quick: 2 * MINUTE, full: 5 * MINUTE },
  },
  {
    id: "evolution-efficacy",
    title: "7. Evolution efficacy curves",
    file: "evolution-efficacy.js",
    target: "GENETIC and SELF_CORRECTING end above OFF (mean of last 10 of 50 runs)",
    timeoutMs: { quick: 2 * MINUTE, full: 5 * MINUTE },
  },
  {
    id: "dispatch",
    title: "8. Dispatch through the run queue",
    file: "dispatch.js",
    target: "the queue adds ≤ 3 ms p50 per run",
    timeoutMs: { quick: 2 * MINUTE, full: 5 * MINUTE },
  },
  {
    id: "storage",
    title: "9. Stores as history grows",
    file: "storage.js",
    target:
      "embedded: heap and RSS + ≤ 20 MiB from 500 to 5,000 runs, restart to /readyz ≤ 1 s at 5,000; ≤ 8 KiB on disk per run; MongoDB: p50 at 2,000 runs ≤ 1.25 × at 0, ≥ 40 runs/s at 16 concurrent",
    timeoutMs: { quick: 8 * MINUTE, full: 20 * MINUTE },
  },
];
