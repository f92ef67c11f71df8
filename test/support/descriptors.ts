import { existsSync } from "node:fs";
import { readdir, readlink } from "node:fs/promises";

/** Open descriptors of this process that point into `dir` (Linux /proc; empty elsewhere). */
export const descriptorsInto = async (dir: string): Promise<string[]> => {
  if (!existsSync("/proc/self/fd")) return [];
  const targets = await Promise.all(
    (await readdir("/proc/self/fd")).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => "")),
  );
  return targets.filter((t) => t.startsWith(dir));
};
