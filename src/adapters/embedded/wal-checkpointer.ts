import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/*
 * Checkpoints of the embedded database's write-ahead log, on a worker thread with a connection of
 * its own. Left to SQLite, the commit that leaves the log 1,000 pages long copies them into the
 * database file and syncs both files before it returns (synchronous = NORMAL syncs at checkpoints),
 * on the thread that serves runs and requests: every ~10 runs one commit took several milliseconds
 * more, twice a run's p50. A PASSIVE checkpoint on another connection copies the same pages beside
 * the writes without blocking them, and the next write after a complete one starts the log over.
 * The serving connection keeps an automatic checkpoint of its own only far above where the worker
 * checkpoints (WAL_SAFETY_CHECKPOINT_PAGES), so that a worker that fell behind or died cannot let
 * the log grow without bound.
 */

/** How often the worker checkpoints the log. @default 200 ms */
export const WAL_CHECKPOINT_INTERVAL_MS = 200;

/**
 * The serving connection's own automatic checkpoint (`wal_autocheckpoint`, in pages of 4 KiB) while
 * the worker runs: ten times SQLite's default, reached only if the worker does not keep up.
 * @default 10,000 pages (~40 MiB)
 */
export const WAL_SAFETY_CHECKPOINT_PAGES = 10_000;

/** SQLite's own default, restored when the worker cannot run. */
export const SQLITE_DEFAULT_AUTOCHECKPOINT_PAGES = 1_000;

/** One checkpoint that copied pages: how many, and how long it took on the worker. */
export interface WalCheckpoint {
  /** Pages in the log, and how many of them are now in the database file. */
  readonly logPages: number;
  readonly checkpointedPages: number;
  readonly ms: number;
}

/**
 * What the checkpointer reports: each checkpoint that copied pages, and each failure (of one
 * checkpoint, or of the worker: the serving connection then checkpoints by itself again).
 */
export interface WalCheckpointObserver {
  checkpointed?(checkpoint: WalCheckpoint): void;
  failed?(error: Error): void;
}

export interface WalCheckpointer {
  /** Stops the worker once its connection is closed. */
  close(): Promise<void>;
}

interface WorkerData {
  readonly driver: string;
  readonly path: string;
  readonly intervalMs: number;
  readonly busyTimeoutMs: number;
}

type WorkerMessage =
  | { readonly kind: "checkpointed"; readonly checkpoint: WalCheckpoint }
  | { readonly kind: "failed"; readonly message: string };

/**
 * The worker's program (CommonJS, run with `eval`). Kept as source text so that the same worker runs
 * from the sources under test, from the compiled tree and from the bundled server, none of which
 * would find the others' files; it loads the driver from the path the server resolved.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.path, { timeout: workerData.busyTimeoutMs });
const checkpoint = () => {
  const started = performance.now();
  try {
    const [{ log, checkpointed }] = db.pragma("wal_checkpoint(PASSIVE)");
    if (checkpointed > 0) {
      const checkpoint = { logPages: log, checkpointedPages: checkpointed, ms: performance.now() - started };
      parentPort.postMessage({ kind: "checkpointed", checkpoint });
    }
  } catch (e) {
    parentPort.postMessage({ kind: "failed", message: e instanceof Error ? e.message : String(e) });
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.once("message", () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * Starts checkpointing the log of the database file at `path` on a worker thread, and raises the
 * serving connection's own automatic checkpoint (`setAutocheckpoint`) to the safety threshold; a
 * worker that fails gives the serving connection SQLite's default back.
 */
export const startWalCheckpointer = (
  path: string,
  setAutocheckpoint: (pages: number) => void,
  options: { readonly busyTimeoutMs: number; readonly observer?: WalCheckpointObserver },
): WalCheckpointer => {
  const { observer } = options;
  const workerData: WorkerData = {
    driver: createRequire(import.meta.url).resolve("better-sqlite3"),
    path,
    intervalMs: WAL_CHECKPOINT_INTERVAL_MS,
    busyTimeoutMs: options.busyTimeoutMs,
  };
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData });
  // The worker never keeps the process alive: a server that stops closes it; one that exits does not wait.
  worker.unref();
  setAutocheckpoint(WAL_SAFETY_CHECKPOINT_PAGES);
  let stopped = false;
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  const fail = (error: Error) => {
    if (stopped) return;
    stopped = true;
    setAutocheckpoint(SQLITE_DEFAULT_AUTOCHECKPOINT_PAGES);
    observer?.failed?.(error);
  };
  worker.on("message", (m: WorkerMessage) => {
    if (m.kind === "checkpointed") observer?.checkpointed?.(m.checkpoint);
    else observer?.failed?.(new Error(`WAL checkpoint failed: ${m.message}`));
  });
  worker.once("error", fail);
  worker.once("exit", (code) => {
    if (code !== 0) fail(new Error(`the WAL checkpoint worker exited with code ${code}`));
  });
  return {
    close: async () => {
      // Held while it closes: a process with nothing else left to do waits for the worker's exit.
      worker.ref();
      if (!stopped) {
        stopped = true;
        worker.postMessage("close");
      }
      await exited;
    },
  };
};
