/**
 * Worker thread of the fan-out benchmark: N raw graphql-transport-ws clients (the `ws` package, no
 * client library, so the worker spends its time receiving) subscribed to one operation. It records,
 * for every `next`, the event's seq and its publish-to-receive latency: receive time minus the
 * payload's `at` (the time the server stamped on the event). Runs on its own thread so that the
 * clients do not take the server's CPU.
 */
import { parentPort } from "node:worker_threads";
import WebSocket from "ws";
import { epochMs, sleep } from "./stats.js";

export type FanoutCommand =
  | {
      readonly type: "open";
      readonly url: string;
      readonly count: number;
      readonly authorization: string;
      readonly query: string;
      readonly variables: Record<string, unknown>;
      /** The payload's field under `data` that holds the event. */
      readonly field: string;
    }
  | { readonly type: "progress" }
  | {
      readonly type: "collect";
      readonly fromSeq: number;
      readonly timeoutMs: number;
      readonly keep: boolean;
    };

export interface FanoutProgress {
  readonly type: "progress";
  /** Lowest, over the sockets, of the highest seq each has received. */
  readonly minSeq: number;
  readonly completed: number;
  readonly errors: number;
}

export interface FanoutCollected {
  readonly type: "collected";
  /** Messages with seq > fromSeq, over all sockets. */
  readonly messages: number;
  readonly latenciesMs: Float64Array;
  readonly firstReceivedAt: number;
  readonly lastReceivedAt: number;
  readonly completed: number;
  readonly errors: number;
  /** The first socket's payloads with seq > fromSeq, in order (when asked to keep them). */
  readonly payloads: unknown[];
}

/** How many sockets connect at once. */
const CONNECT_BATCH = 100;
const POLL_MS = 20;

interface Client {
  readonly socket: WebSocket;
  maxSeq: number;
  done: boolean;
}

const port = parentPort;
if (port === null) throw new Error("fanout-clients must run in a worker thread");

let clients: Client[] = [];
let field = "";
// Every received event, flat: seq, latency, receive time.
let seqs: number[] = [];
let latencies: number[] = [];
let received: number[] = [];
let errors = 0;
const firstPayloads: unknown[] = [];

const connect = (cmd: Extract<FanoutCommand, { type: "open" }>, index: number): Promise<Client> =>
  new Promise((resolve, reject) => {
    const socket = new WebSocket(cmd.url, "graphql-transport-ws");
    const client: Client = { socket, maxSeq: 0, done: false };
    socket.on("open", () =>
      socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: cmd.authorization } })),
    );
    socket.on("message", (data: Buffer) => {
      const at = epochMs();
      const msg = JSON.parse(String(data)) as { type: string; payload?: { data?: Record<string, unknown> } };
      if (msg.type === "connection_ack") {
        socket.send(
          JSON.stringify({
            id: "1",
            type: "subscribe",
            payload: { query: cmd.query, variables: cmd.variables },
          }),
        );
        resolve(client);
      } else if (msg.type === "next") {
        const event = msg.payload?.data?.[field] as { seq: number; at: string } | undefined;
        if (event === undefined) {
          errors++;
          return;
        }
        client.maxSeq = Math.max(client.maxSeq, event.seq);
        seqs.push(event.seq);
        latencies.push(at - Date.parse(event.at));
        received.push(at);
        if (index === 0) firstPayloads.push(event);
      } else if (msg.type === "complete") {
        client.done = true;
      } else if (msg.type === "error") {
        errors++;
        client.done = true;
      }
    });
    socket.on("error", (e) => reject(e));
    socket.on("close", () => {
      client.done = true;
    });
  });

port.on("message", async (cmd: FanoutCommand) => {
  if (cmd.type === "open") {
    field = cmd.field;
    for (let i = 0; i < cmd.count; i += CONNECT_BATCH) {
      const batch = Array.from({ length: Math.min(CONNECT_BATCH, cmd.count - i) }, (_, j) =>
        connect(cmd, i + j),
      );
      clients.push(...(await Promise.all(batch)));
    }
    port.postMessage({ type: "opened" });
  } else if (cmd.type === "progress") {
    const minSeq = clients.reduce((m, c) => Math.min(m, c.maxSeq), Number.POSITIVE_INFINITY);
    const progress: FanoutProgress = {
      type: "progress",
      minSeq: clients.length === 0 ? 0 : minSeq,
      completed: clients.filter((c) => c.done).length,
      errors,
    };
    port.postMessage(progress);
  } else {
    const until = Date.now() + cmd.timeoutMs;
    while (clients.some((c) => !c.done) && Date.now() < until) await sleep(POLL_MS);
    const kept: number[] = [];
    let first = Number.POSITIVE_INFINITY;
    let last = 0;
    for (let i = 0; i < seqs.length; i++) {
      if ((seqs[i] as number) <= cmd.fromSeq) continue;
      kept.push(latencies[i] as number);
      first = Math.min(first, received[i] as number);
      last = Math.max(last, received[i] as number);
    }
    const result: FanoutCollected = {
      type: "collected",
      messages: kept.length,
      latenciesMs: Float64Array.from(kept),
      firstReceivedAt: first,
      lastReceivedAt: last,
      completed: clients.filter((c) => c.done).length,
      errors,
      payloads: cmd.keep ? firstPayloads.filter((p) => (p as { seq: number }).seq > cmd.fromSeq) : [],
    };
    for (const c of clients) c.socket.terminate();
    clients = [];
    seqs = [];
    latencies = [];
    received = [];
    errors = 0;
    firstPayloads.length = 0;
    port.postMessage(result);
  }
});
