import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { createEmbeddedStore } from "../../src/adapters/embedded/embedded-store.js";
import { EMBEDDED_DB_FILE, openEmbeddedDatabase } from "../../src/adapters/embedded/sqlite.js";
import {
  SQLITE_DEFAULT_AUTOCHECKPOINT_PAGES,
  startWalCheckpointer,
  WAL_SAFETY_CHECKPOINT_PAGES,
  type WalCheckpoint,
} from "../../src/adapters/embedded/wal-checkpointer.js";
import type { RunEvent } from "../../src/domain/events.js";
import { anEvent } from "../fixtures/builders.js";
import { withDataDir } from "../support/data-dirs.js";
import { killOnExit } from "../support/processes.js";

/** The compiled module (npm run build), run in a process of its own. */
const COMPILED_SQLITE = resolve(import.meta.dirname, "../../dist/src/adapters/embedded/sqlite.js");

/** Events of one run with answers long enough that a batch fills a few hundred pages of the log. */
const batch = (runId: string, count: number): RunEvent[] =>
  Array.from({ length: count }, (_, i) =>
    anEvent({
      runId,
      seq: i + 1,
      body: { type: "RunStarted", query: `Question ${i}: ${"why ".repeat(400)}` },
    }),
  );

/** Checkpoints as the worker reports them, and a wait for one that copied the whole log. */
const recorder = () => {
  const seen: WalCheckpoint[] = [];
  let waiting: (() => void) | null = null;
  return {
    seen,
    observer: {
      checkpointed: (c: WalCheckpoint) => {
        seen.push(c);
        if (c.checkpointedPages === c.logPages) waiting?.();
      },
    },
    /** Resolves at the next checkpoint that leaves nothing of the log to copy. */
    complete: () => new Promise<void>((resolve) => (waiting = resolve)),
  };
};

describe("the write-ahead log's checkpoints (embedded store)", () => {
  it("are made on a worker thread, and the serving connection checkpoints only far above them", async () => {
    await withDataDir(async (dataDir) => {
      const checkpoints = recorder();
      const database = openEmbeddedDatabase({ dataDir, walCheckpoints: checkpoints.observer });
      const store = await createEmbeddedStore({ database });
      const wal = join(dataDir, `${EMBEDDED_DB_FILE}-wal`);
      try {
        expect(database.db.pragma("wal_autocheckpoint", { simple: true })).toBe(WAL_SAFETY_CHECKPOINT_PAGES);

        let complete = checkpoints.complete();
        await store.events.append(batch("run-a", 200));
        await complete;
        const last = checkpoints.seen.at(-1) as WalCheckpoint;
        expect(last.checkpointedPages).toBeGreaterThan(0);
        const logBytes = statSync(wal).size;

        // After a complete checkpoint the next write starts the log over: the same writes again
        // leave it no longer (SQLite's own checkpoint would not have run below 10,000 pages).
        complete = checkpoints.complete();
        await store.events.append(batch("run-b", 200));
        expect(statSync(wal).size).toBeLessThanOrEqual(logBytes);
        await complete;
        expect(await store.events.list("tenant-a", "run-a", 0)).toHaveLength(200);
        expect(await store.events.list("tenant-a", "run-b", 0)).toHaveLength(200);
      } finally {
        await store.close();
        await database.close();
      }
      // Closed in order (the worker's connection first), the last connection folds the log in and
      // removes it; every write is in the database file.
      expect(existsSync(wal)).toBe(false);
      const reopened = openEmbeddedDatabase({ dataDir });
      try {
        const events = reopened.db.prepare("SELECT COUNT(*) AS n FROM events").get() as { n: number };
        expect(events.n).toBe(400);
      } finally {
        await reopened.close();
      }
    });
  });

  it("keeps a process that has nothing else to do alive until the database is closed", async () => {
    await withDataDir(async (dataDir) => {
      // Nothing but the database in this process: closing waits for the worker, which must not
      // let the process end first (the script's last line would then never run).
      const script = `
        import { openEmbeddedDatabase } from ${JSON.stringify(pathToFileURL(COMPILED_SQLITE).href)};
        const database = openEmbeddedDatabase({ dataDir: ${JSON.stringify(dataDir)} });
        database.db.exec("CREATE TABLE notes (text TEXT)");
        database.db.prepare("INSERT INTO notes VALUES (?)").run("kept");
        await database.close();
        process.stdout.write("closed");
      `;
      const child = killOnExit(
        spawn(process.execPath, ["--input-type=module", "-e", script], {
          stdio: ["ignore", "pipe", "inherit"],
        }),
      );
      let stdout = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      const [code] = (await once(child, "exit")) as [number | null];
      expect({ code, stdout }).toEqual({ code: 0, stdout: "closed" });
      expect(existsSync(join(dataDir, `${EMBEDDED_DB_FILE}-wal`))).toBe(false);
    });
  });

  it("gives the serving connection SQLite's own checkpoints back when the worker cannot run", async () => {
    await withDataDir(async (dataDir) => {
      const pages: number[] = [];
      let reportFailure: (e: Error) => void = () => {};
      const failed = new Promise<Error>((resolve) => (reportFailure = resolve));
      // A database the worker cannot open: in a folder that does not exist.
      const checkpointer = startWalCheckpointer(join(dataDir, "missing", "vex.db"), (n) => pages.push(n), {
        busyTimeoutMs: 100,
        observer: { failed: (e) => reportFailure(e) },
      });
      const error = await failed;
      await checkpointer.close();
      expect(error.message).toMatch(/directory does not exist|unable to open/i);
      expect(pages).toEqual([WAL_SAFETY_CHECKPOINT_PAGES, SQLITE_DEFAULT_AUTOCHECKPOINT_PAGES]);
    });
  });
});
