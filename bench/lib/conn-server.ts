/**
 * Child process of the connections benchmark: a server whose memory is measured alone. Started with
 * `--expose-gc` and an IPC channel; argument `product` (the real server, API key auth) or `baseline`
 * (a bare graphql-ws server). It sends { wsUrl, authorization } once listening, answers "memory"
 * with its memory usage after a full GC, and exits on "stop" (or when its parent goes away).
 */
import { bearer, createTestKey } from "../../test/support/keys.js";
import { makeDataDir } from "../../test/support/server.js";
import { startBenchServer } from "./apps.js";
import { startBareServer } from "./bare-ws-server.js";
import { sleep } from "./stats.js";

const send = (message: unknown) => process.send?.(message);
const kind = process.argv[2];
/** Settling time after a GC before reading RSS. */
const SETTLE_MS = 300;

let stop: () => Promise<void>;
if (kind === "product") {
  const dataDir = await makeDataDir();
  const { key } = await createTestKey(dataDir, "bench");
  const server = await startBenchServer({ dataDir });
  stop = server.close;
  send({ wsUrl: server.wsUrl, authorization: bearer(key).authorization });
} else {
  const authorization = "Bearer bench-baseline";
  const bare = await startBareServer(authorization);
  stop = bare.close;
  send({ wsUrl: bare.wsUrl, authorization });
}

const gc = (globalThis as { gc?: () => void }).gc;
process.on("message", async (message) => {
  if (message === "memory") {
    for (let i = 0; i < 3; i++) {
      gc?.();
      await sleep(SETTLE_MS / 3);
    }
    const cpu = process.cpuUsage();
    send({ ...process.memoryUsage(), cpuMs: (cpu.user + cpu.system) / 1000, gc: gc !== undefined });
  } else if (message === "stop") {
    await stop().catch(() => undefined);
    process.exit(0);
  }
});
process.on("disconnect", () => process.exit(0));
