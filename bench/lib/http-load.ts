/**
 * Worker thread of the read-path benchmark: an autocannon-like closed loop. `connections` keep-alive
 * connections each send the same POST back to back for `durationMs` (after `warmupMs` not counted),
 * capped at `maxRequests`. Posts back every counted request's latency and the non-2xx count.
 */
import { Agent, request } from "node:http";
import { parentPort, workerData } from "node:worker_threads";
import { nowMs } from "./stats.js";

export interface LoadOptions {
  readonly url: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly connections: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly maxRequests: number;
}

export interface LoadResult {
  readonly requests: number;
  readonly elapsedMs: number;
  readonly latenciesMs: Float64Array;
  readonly failures: number;
  readonly sampleBody: string;
}

const options = workerData as LoadOptions;
const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
const url = new URL(options.url);

const post = (): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: "POST",
        headers: { ...options.headers, "content-length": Buffer.byteLength(options.body) },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on("data", (p: Buffer) => parts.push(p));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });

const run = async (): Promise<LoadResult> => {
  const latencies: number[] = [];
  let failures = 0;
  let sampleBody = "";
  let sent = 0;
  const start = nowMs();
  const measureFrom = start + options.warmupMs;
  const end = measureFrom + options.durationMs;
  const loop = async () => {
    while (sent < options.maxRequests && nowMs() < end) {
      sent++;
      const t0 = nowMs();
      const res = await post();
      const t1 = nowMs();
      if (res.status < 200 || res.status >= 300) failures++;
      if (sampleBody === "") sampleBody = res.body;
      if (t0 >= measureFrom) latencies.push(t1 - t0);
    }
  };
  await Promise.all(Array.from({ length: options.connections }, loop));
  agent.destroy();
  return {
    requests: latencies.length,
    elapsedMs: Math.max(1, nowMs() - measureFrom),
    latenciesMs: Float64Array.from(latencies),
    failures,
    sampleBody,
  };
};

parentPort?.postMessage(await run());
