/**
 * Helpers of benchmark 9 (stores as history grows): filling a server with runs (or a MongoDB with
 * copies of the documents the product wrote), reading memory after a forced GC, sizing a data folder,
 * and timing a real server process from spawn to /readyz.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import Database from "better-sqlite3";
import type { Db, Document } from "mongodb";
import { EMBEDDED_DB_FILE } from "../../src/adapters/embedded/sqlite.js";
import { COLLECTIONS } from "../../src/adapters/mongo/collections.js";
import type { Orchestrator } from "../../src/orchestrator/orchestrator.js";
import { freePort } from "../../test/support/mongo.js";
import { BENCH_ENV, runToEnd } from "./apps.js";
import { repoRoot } from "./report.js";
import { closedLoop, nowMs, sleep } from "./stats.js";

export const MIB = 1024 * 1024;
export const KIB = 1024;

/** How often the restart probe asks /readyz while the server starts (ms): well below the figures timed. */
const READY_POLL_MS = 5;
/** How long a server process may take to answer /readyz before the benchmark gives up (ms). */
const READY_TIMEOUT_MS = 60_000;

/**
 * Adds `count` default runs to a server with `concurrency` of them in flight, spread over `tenants`
 * tenants, each run awaited to its RunFinished. Returns the runs finished and the loop's runs/s.
 */
export const fillRuns = async (
  orchestrator: Orchestrator,
  options: { count: number; concurrency: number; tenants: number; query: string; maxMs: number },
): Promise<{ runs: number; runsPerSecond: number; elapsedMs: number }> => {
  if (options.count <= 0) return { runs: 0, runsPerSecond: 0, elapsedMs: 0 };
  const { durations, elapsedMs } = await closedLoop(
    { concurrency: options.concurrency, maxCount: options.count, maxMs: options.maxMs },
    (i) => runToEnd(orchestrator, `bench-${i % options.tenants}`, { query: options.query }),
  );
  return { runs: durations.length, runsPerSecond: (durations.length / elapsedMs) * 1000, elapsedMs };
};

/** Heap used and RSS of this process (bytes) after full garbage collections (needs --expose-gc). */
export const memoryAfterGc = async (): Promise<{ heapUsed: number; rss: number }> => {
  const gc = globalThis.gc;
  if (gc === undefined) throw new Error("run with node --expose-gc: heap figures need a forced GC");
  // Twice, with a turn of the event loop between: finalizers and weak callbacks free more on the second.
  gc();
  await sleep(0);
  gc();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss };
};

/** Sum of the sizes of every file under `dir` (bytes). */
export const dirBytes = async (dir: string): Promise<number> => {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await dirBytes(path);
    else if (entry.isFile()) total += (await stat(path)).size;
  }
  return total;
};

/** Folds the WAL of the embedded database of a (stopped) server's data folder into the database file. */
export const checkpointEmbedded = (dataDir: string): void => {
  const db = new Database(join(dataDir, EMBEDDED_DB_FILE));
  try {
    db.pragma("wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
};

/** Bytes of each table and index of the embedded database of a (stopped) server's folder, largest first. */
export const embeddedTableBytes = (dataDir: string): { name: string; bytes: number }[] => {
  const db = new Database(join(dataDir, EMBEDDED_DB_FILE), { readonly: true });
  try {
    return db
      .prepare("SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC")
      .all() as { name: string; bytes: number }[];
  } finally {
    db.close();
  }
};

/** Each file directly in `dir` (folders summed) with its size, largest first. */
export const fileBytes = async (dir: string): Promise<{ name: string; bytes: number }[]> => {
  const out: { name: string; bytes: number }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    out.push({
      name: entry.name,
      bytes: entry.isDirectory() ? await dirBytes(path) : (await stat(path)).size,
    });
  }
  return out.sort((a, b) => b.bytes - a.bytes);
};

const stopProcess = async (child: ChildProcess): Promise<void> => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  await exited;
};

/** Spawn to exit of `node -e ""` (ms): what any Node.js process costs to start on this machine now. */
export const timeNodeStart = async (): Promise<number> => {
  const started = nowMs();
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await once(child, "exit");
  return nowMs() - started;
};

/**
 * Starts the server as it is run (`node dist/server/main.js`, rolldown.config.ts's bundle) as a
 * process of its own on `dataDir` and times it from spawn until GET /readyz answers 200, then stops
 * it (SIGTERM, awaited). No LLM is configured, so the server uses its offline provider; nothing
 * calls it.
 */
export const timeToReady = async (dataDir: string, env: Record<string, string> = {}): Promise<number> => {
  const port = await freePort();
  const started = nowMs();
  const child = spawn(process.execPath, [join(repoRoot(), "dist", "server", "main.js")], {
    env: {
      PATH: process.env.PATH ?? "",
      ...BENCH_ENV,
      HOST: "127.0.0.1",
      PORT: String(port),
      VEX_DATA_DIR: dataDir,
      ...env,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  try {
    while (nowMs() - started < READY_TIMEOUT_MS) {
      if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}: ${stderr}`);
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) return nowMs() - started;
      await sleep(READY_POLL_MS);
    }
    throw new Error(`server not ready within ${READY_TIMEOUT_MS} ms: ${stderr}`);
  } finally {
    await stopProcess(child);
  }
};

/** Writes a line of progress to stderr (the result goes to stdout). */
export const progress = (line: string): void => {
  process.stderr.write(`storage: ${line}\n`);
};

/** Documents inserted per insertMany while a history is copied. */
const COPY_BATCH = 500;

/** A copy of a stored value with every occurrence of the map's keys in its strings renamed. */
const renamed = (value: unknown, rename: (s: string) => string): unknown => {
  if (typeof value === "string") return rename(value);
  if (Array.isArray(value)) return value.map((v) => renamed(v, rename));
  // Only plain sub-documents: dates and BSON values (Binary, ObjectId, Long) are kept as they are.
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renamed(v, rename)]));
  }
  return value;
};

/**
 * Grows a MongoDB history by `count` runs without running them: copies of the documents the product
 * wrote for the runs already in `db` (the run, its agents, its events), the run's and its agents' ids
 * suffixed with the copy's number wherever they occur (references, event ids), inserted in batches.
 * Returns the documents inserted.
 */
export const copyRunHistory = async (db: Db, count: number): Promise<number> => {
  const runs = await db.collection<Document>(COLLECTIONS.runs).find({}).toArray();
  if (runs.length === 0) throw new Error("no runs to copy: run some through the product first");
  const agents = await db.collection<Document>(COLLECTIONS.agents).find({}).toArray();
  const events = await db.collection<Document>(COLLECTIONS.events).find({}).toArray();
  const byRun = <T extends Document>(docs: T[]) => {
    const m = new Map<string, T[]>();
    for (const d of docs) m.set(String(d.runId), [...(m.get(String(d.runId)) ?? []), d]);
    return m;
  };
  const agentsOf = byRun(agents);
  const eventsOf = byRun(events);
  const pending = new Map<string, Document[]>([
    [COLLECTIONS.runs, []],
    [COLLECTIONS.agents, []],
    [COLLECTIONS.events, []],
  ]);
  let inserted = 0;
  const flush = async (name: string, atLeast: number) => {
    const docs = pending.get(name) ?? [];
    if (docs.length < atLeast || docs.length === 0) return;
    await db.collection(name).insertMany(docs, { ordered: false });
    inserted += docs.length;
    pending.set(name, []);
  };
  for (let c = 0; c < count; c++) {
    const run = runs[c % runs.length] as Document;
    const runId = String(run._id);
    const ids = [runId, ...(agentsOf.get(runId) ?? []).map((a) => String(a._id))];
    const suffix = `-h${c}`;
    const rename = (s: string) => ids.reduce((acc, id) => acc.replaceAll(id, `${id}${suffix}`), s);
    const add = (name: string, docs: readonly Document[]) =>
      pending.get(name)?.push(...docs.map((d) => renamed(d, rename) as Document));
    add(COLLECTIONS.runs, [run]);
    add(COLLECTIONS.agents, agentsOf.get(runId) ?? []);
    add(COLLECTIONS.events, eventsOf.get(runId) ?? []);
    for (const name of pending.keys()) await flush(name, COPY_BATCH);
  }
  for (const name of pending.keys()) await flush(name, 1);
  return inserted;
};
