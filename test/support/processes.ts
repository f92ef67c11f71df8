import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { resolve } from "node:path";

/** The server as it is run: the bundle `npm run build` makes (rolldown.config.ts). */
export const SERVER_MAIN = resolve(import.meta.dirname, "../../dist/server/main.js");

/**
 * Deadline of a test that starts server processes (a failure's bound, never a wait): each process
 * loads the whole server, so on a loaded 2-core machine starting three of them alone can take
 * longer than the suite's default test timeout.
 */
export const PROCESS_TEST_TIMEOUT_MS = 240_000;

export interface ServerProcess {
  readonly child: ChildProcess;
  /** GraphQL URL of an API, base URL of a worker. */
  readonly url: string;
  readonly wsUrl: string;
  /** The base URL (health and metrics). */
  readonly base: string;
  readonly pid: number;
  output(): { stdout: string; stderr: string };
  /** SIGTERM, then waits for the exit code. */
  stop(): Promise<number | null>;
  kill(): Promise<void>;
}

/** Child processes still running when the test process exits (a test cut short by its timeout may
 * start one after its cleanup ran): killed then, so no server outlives the test file. */
const live = new Set<ChildProcess>();
const killLive = () => {
  for (const child of live) child.kill("SIGKILL");
};
/** How a process ended by SIGTERM exits (128 + the signal's number). */
const SIGTERM_EXIT_CODE = 143;
process.once("exit", killLive);
// Vitest ends a test file's worker process with SIGTERM, which runs no "exit" handler.
process.once("SIGTERM", () => {
  killLive();
  process.exit(SIGTERM_EXIT_CODE);
});

/** Kills the child when the test process exits, if it is still running then. */
export const killOnExit = <C extends ChildProcess>(child: C): C => {
  live.add(child);
  child.once("exit", () => live.delete(child));
  return child;
};

/** Starts the built server (dist/server/main.js) as its own process and resolves once it listens. */
export const spawnServer = async (env: Record<string, string>): Promise<ServerProcess> => {
  const child = killOnExit(
    spawn(process.execPath, [SERVER_MAIN], {
      env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", PORT: "0", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((ok, fail) => {
    child.stdout.on("data", () => {
      const m = /"url":"([^"]+)"/.exec(stdout);
      if (m?.[1]) ok(m[1]);
    });
    child.once("exit", (code) => fail(new Error(`exited ${code}: ${stderr}${stdout}`)));
  });
  const base = new URL(url).origin;
  return {
    child,
    url,
    wsUrl: url.replace(/^http/, "ws"),
    base,
    pid: child.pid ?? 0,
    output: () => ({ stdout, stderr }),
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      const [code] = (await once(child, "exit")) as [number | null];
      return code;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGKILL");
      await once(child, "exit");
    },
  };
};

/** A gauge's value from a Prometheus exposition (the sum over its label sets). */
export const gauge = async (base: string, name: string): Promise<number> => {
  const text = await (await fetch(`${base}/metrics`)).text();
  return text
    .split("\n")
    .filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
    .reduce((sum, l) => sum + Number(l.split(" ").at(-1)), 0);
};
