/**
 * Benchmark 4: memory per idle authenticated WebSocket. The server runs in a child process of its own
 * (so that only its memory is measured); this process opens N graphql-transport-ws connections, each
 * authenticated with an API key in connection_init and acknowledged, and leaves them idle. RSS per
 * connection = (RSS with N open − RSS before) ÷ N, both read after a full GC. Baseline (same run): the
 * same clients against a bare graphql-ws server (useServer on ws) with a string-compare auth check.
 * N is capped by the open-file limit (each side holds one descriptor per connection).
 *
 *   npx tsc -p tsconfig.bench.json && node dist/bench/connections.js [--full] [--no-write]
 */
import { type ChildProcess, fork } from "node:child_process";
import WebSocket from "ws";
import { openFileLimit } from "./lib/machine.js";
import { benchMain } from "./lib/main.js";
import { check, fmt } from "./lib/report.js";
import { nowMs, sleep, withTimeout } from "./lib/stats.js";

const PLAN = { quick: { connections: 2_000 }, full: { connections: 5_000 } } as const;
const TARGET_KB = 100;
const KB = 1024;
/** Descriptors kept free for everything else the processes open. */
const FD_RESERVE = 512;
const CONNECT_BATCH = 200;
const WARMUP_CONNECTIONS = 100;
/** Idle time with every connection open before measuring (the key re-check runs every second). */
const IDLE_MS = 3_000;
const STEP_TIMEOUT_MS = 60_000;

interface Memory {
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  /** CPU time the server process has used so far (ms). */
  readonly cpuMs: number;
  readonly gc: boolean;
}

const child = (kind: "product" | "baseline") => {
  const proc: ChildProcess = fork(new URL("./lib/conn-server.js", import.meta.url), [kind], {
    execArgv: ["--expose-gc"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const next = <T>(what: string): Promise<T> =>
    withTimeout(
      new Promise<T>((resolve) => proc.once("message", (m) => resolve(m as T))),
      STEP_TIMEOUT_MS,
      what,
    );
  return {
    ready: next<{ wsUrl: string; authorization: string }>(`${kind} server start`),
    memory: () => {
      const m = next<Memory>("memory reading");
      proc.send("memory");
      return m;
    },
    stop: async () => {
      const exited = new Promise((r) => proc.once("exit", r));
      proc.send("stop");
      await withTimeout(exited, STEP_TIMEOUT_MS, `${kind} server stop`).catch(() => proc.kill("SIGKILL"));
    },
  };
};

/** One acknowledged, authenticated, idle graphql-transport-ws connection. */
const connect = (url: string, authorization: string): Promise<WebSocket> =>
  new Promise((resolve, reject) => {
    const socket = new WebSocket(url, "graphql-transport-ws");
    socket.on("open", () =>
      socket.send(JSON.stringify({ type: "connection_init", payload: { authorization } })),
    );
    socket.on("message", (data: Buffer) => {
      if ((JSON.parse(String(data)) as { type: string }).type === "connection_ack") resolve(socket);
    });
    socket.on("error", reject);
    socket.on("close", (code) => reject(new Error(`closed with ${code} before connection_ack`)));
  });

const openMany = async (url: string, authorization: string, n: number) => {
  const sockets: WebSocket[] = [];
  for (let i = 0; i < n; i += CONNECT_BATCH) {
    const batch = Array.from({ length: Math.min(CONNECT_BATCH, n - i) }, () => connect(url, authorization));
    sockets.push(...(await withTimeout(Promise.all(batch), STEP_TIMEOUT_MS, "connecting")));
  }
  return sockets;
};

const closeAll = async (sockets: WebSocket[]) => {
  for (const s of sockets) s.terminate();
  await sleep(200);
};

const measure = async (kind: "product" | "baseline", n: number) => {
  const server = child(kind);
  try {
    const { wsUrl, authorization } = await server.ready;
    await closeAll(await openMany(wsUrl, authorization, WARMUP_CONNECTIONS));
    const before = await server.memory();
    const started = nowMs();
    const sockets = await openMany(wsUrl, authorization, n);
    const openMs = nowMs() - started;
    const settled = await server.memory();
    await sleep(IDLE_MS);
    const after = await server.memory();
    await closeAll(sockets);
    return {
      n,
      openMs,
      gc: after.gc,
      rssPerConnKB: (after.rss - before.rss) / n / KB,
      heapPerConnKB: (after.heapUsed - before.heapUsed) / n / KB,
      rssBeforeMB: before.rss / KB / KB,
      rssAfterMB: after.rss / KB / KB,
      // The second reading's own GC is in both; the idle window is the sleep between them.
      idleCpuPercent: ((after.cpuMs - settled.cpuMs) / IDLE_MS) * 100,
    };
  } finally {
    await server.stop();
  }
};

await benchMain("connections", async ({ mode }) => {
  const limit = openFileLimit();
  const wanted = PLAN[mode].connections;
  const n = limit === null ? wanted : Math.min(wanted, limit - FD_RESERVE);
  const product = await measure("product", n);
  const baseline = await measure("baseline", n);
  const row = (name: string, m: typeof product) => [
    name,
    String(m.n),
    fmt(m.rssBeforeMB),
    fmt(m.rssAfterMB),
    fmt(m.rssPerConnKB),
    fmt(m.heapPerConnKB),
    fmt(m.openMs),
    fmt(m.idleCpuPercent),
  ];
  return {
    baseline: "a bare graphql-ws server (useServer on ws) in its own process, same clients",
    checks: [
      check({
        metric: `RSS per idle authenticated connection (${n} open)`,
        target: `≤ ${TARGET_KB} KiB`,
        value: product.rssPerConnKB,
        unit: "KiB",
        baseline: baseline.rssPerConnKB,
        pass: product.rssPerConnKB <= TARGET_KB,
      }),
      check({
        metric: "V8 heap per connection",
        value: product.heapPerConnKB,
        unit: "KiB",
        baseline: baseline.heapPerConnKB,
      }),
      check({
        metric: `server CPU while ${n} connections idle`,
        value: product.idleCpuPercent,
        unit: "%",
        baseline: baseline.idleCpuPercent,
      }),
    ],
    tables: [
      {
        title: "Server memory with idle connections (after a full GC)",
        header: [
          "server",
          "connections",
          "RSS before (MiB)",
          "RSS after (MiB)",
          "RSS/conn (KiB)",
          "heap/conn (KiB)",
          "open all (ms)",
          "idle CPU (%)",
        ],
        rows: [row("product", product), row("bare graphql-ws", baseline)],
      },
    ],
    notes: [
      n < wanted
        ? `Measured with ${n} connections, not ${wanted}: the open-file limit is ${limit} (raise it with ulimit -n).`
        : `Open-file limit ${limit ?? "unknown"}: enough for ${wanted} connections.`,
      `Connections stay idle for ${IDLE_MS / 1000} s before the reading; the server keeps its default keep-alive and key re-check timers running.`,
      ...(product.gc ? [] : ["The server child ran without --expose-gc: readings include garbage."]),
    ],
    data: { product, baseline, openFileLimit: limit, wanted },
  };
});
