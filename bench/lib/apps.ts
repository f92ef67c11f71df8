import type { RunEvent } from "../../src/domain/events.js";
import type { Run } from "../../src/domain/run.js";
import type { Orchestrator } from "../../src/orchestrator/orchestrator.js";
import type { StartRunInput } from "../../src/orchestrator/run-input.js";
import type { LlmClient } from "../../src/ports/llm.js";
import { removeDir, startTestServer, type TestServer } from "../../test/support/server.js";

/**
 * Settings every benchmark server gets: silent logs, and admission limits high enough that the
 * benchmark measures the work, not the rate limiter (which would refuse a benchmark's runs).
 */
export const BENCH_ENV: Readonly<Record<string, string>> = {
  LOG_LEVEL: "silent",
  VEX_RATE_LIMIT_PER_MINUTE: "10000000",
  VEX_RATE_LIMIT_BURST: "1000000",
  VEX_MAX_CONCURRENT_RUNS_PER_TENANT: "1000",
};

export interface BenchServer extends TestServer {
  /** Stops the server and deletes its data dir. */
  close(): Promise<void>;
}

/** The real server (createApp: HTTP + WebSocket, stores, hooks) on a free loopback port. */
export const startBenchServer = async (
  options: { env?: Record<string, string>; llm?: LlmClient; dataDir?: string } = {},
): Promise<BenchServer> => {
  const server = await startTestServer({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.llm ? { llm: options.llm } : {}),
    env: { ...BENCH_ENV, ...options.env },
  });
  return {
    ...server,
    close: async () => {
      await server.stop();
      await removeDir(server.dataDir);
    },
  };
};

/** Starts a run in-process and resolves with its RunFinished event once every event has been streamed. */
export const runToEnd = async (
  orchestrator: Orchestrator,
  tenantId: string,
  input: StartRunInput,
): Promise<{ run: Run; finished: Extract<RunEvent, { type: "RunFinished" }> }> => {
  const run = await orchestrator.start(tenantId, input);
  for await (const e of await orchestrator.events(tenantId, run.id, 0)) {
    if (e.type === "RunFinished") {
      if (e.status !== "SUCCEEDED") throw new Error(`run ${run.id} ended ${e.status}: ${e.error?.message}`);
      return { run, finished: e };
    }
  }
  throw new Error(`run ${run.id}: event stream ended without RunFinished`);
};

/** Store operations the server has done so far and their summed duration, from its own /metrics. */
export const storeOperations = async (graphqlUrl: string): Promise<{ count: number; ms: number }> => {
  const text = await (await fetch(graphqlUrl.replace(/\/graphql$/, "/metrics"))).text();
  let count = 0;
  let seconds = 0;
  for (const m of text.matchAll(/^vex_store_operation_duration_seconds_(sum|count)\{[^}]*\} (\S+)$/gm)) {
    if (m[1] === "count") count += Number(m[2]);
    else seconds += Number(m[2]);
  }
  return { count, ms: seconds * 1000 };
};

/** CPU time (user + system, all threads of this process) spent while `fn` runs, in ms. */
export const cpuMs = async <T>(fn: () => Promise<T>): Promise<{ value: T; cpuMs: number }> => {
  const before = process.cpuUsage();
  const value = await fn();
  const used = process.cpuUsage(before);
  return { value, cpuMs: (used.user + used.system) / 1000 };
};
