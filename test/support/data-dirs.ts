import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Closable, type PerStore, perStore } from "./per-store.js";

/** A fresh, empty folder under the system's temp dir. */
export const makeDataDir = (): Promise<string> => mkdtemp(join(tmpdir(), "vex-test-"));
/** Removes a folder and everything in it; a missing one is fine. */
export const removeDir = (dir: string): Promise<void> => rm(dir, { recursive: true, force: true });

/**
 * `create`/`destroy` for a contract run on disk: every store is opened on a fresh data dir (`open`),
 * which `destroy` removes after closing the store.
 */
export const perDataDir = <S extends Closable>(
  open: (dataDir: string) => S | Promise<S>,
): PerStore<string, S> => perStore({ acquire: makeDataDir, release: removeDir }, open);

/** Runs `use` on a fresh data dir and removes the dir afterwards, whatever `use` did. */
export const withDataDir = async <T>(use: (dataDir: string) => Promise<T>): Promise<T> => {
  const dataDir = await makeDataDir();
  try {
    return await use(dataDir);
  } finally {
    await removeDir(dataDir);
  }
};
