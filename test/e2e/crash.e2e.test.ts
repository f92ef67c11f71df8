import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { print } from "graphql";
import { afterEach, describe, expect, it } from "vitest";
import {
  OrchestrationDocument,
  OrchestrationEventLogDocument,
  OrchestrationEventsDocument,
  StartOrchestrationDocument,
} from "../../client/generated/graphql.js";
import { request, wsClient } from "../support/graphql.js";
import { killOnExit, SERVER_MAIN } from "../support/processes.js";
import { makeDataDir, removeDir } from "../support/server.js";

/** Runs started in the burst; the process is killed once this many were acknowledged. */
const BURST = 200;
const KILL_AFTER_ACKNOWLEDGED = 25;
/** Mutations in flight at once during the burst. */
const IN_FLIGHT = 4;

/** Starts the built server as its own process on `dataDir`; resolves with its URL once it listens. */
const spawnServer = (dataDir: string) => {
  const child = spawn(process.execPath, [SERVER_MAIN], {
    env: {
      PATH: process.env.PATH ?? "",
      HOST: "127.0.0.1",
      PORT: "0",
      VEX_DATA_DIR: dataDir,
      VEX_MAX_CONCURRENT_RUNS_PER_TENANT: String(BURST),
      VEX_RATE_LIMIT_PER_MINUTE: String(BURST * 10),
      VEX_RATE_LIMIT_BURST: String(BURST * 10),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  killOnExit(child);
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const listening = new Promise<string>((ok, fail) => {
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      const m = /"url":"([^"]+)"/.exec(stdout);
      if (m?.[1]) ok(m[1]);
    });
    child.once("exit", (code) => fail(new Error(`exited ${code}: ${stderr}`)));
  });
  listening.catch(() => undefined);
  return { child, listening };
};

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

type Delivered = { seq: number; __typename: string; at: unknown };

describe("a server killed (SIGKILL) in the middle of a burst of runs", () => {
  it("keeps every acknowledged run and every event it delivered to a subscriber", {
    timeout: 120_000,
  }, async () => {
    const dataDir = await makeDataDir();
    try {
      const first = spawnServer(dataDir);
      children.push(first.child);
      const url = await first.listening;
      const ws = wsClient(url.replace(/^http/, "ws"));
      const acknowledged: string[] = [];
      const delivered = new Map<string, Delivered[]>();
      const exited = once(first.child, "exit");
      let killed = false;

      const subscribe = (id: string) => {
        const events: Delivered[] = [];
        delivered.set(id, events);
        ws.subscribe(
          { query: print(OrchestrationEventsDocument), variables: { orchestrationId: id } },
          {
            next: (r) => {
              const e = (r.data as { orchestrationEvents?: Delivered } | null)?.orchestrationEvents;
              if (e) events.push({ seq: e.seq, __typename: e.__typename, at: e.at });
            },
            error: () => undefined,
            complete: () => undefined,
          },
        );
      };
      const startOne = async (n: number) => {
        const { startOrchestration } = await request(url, StartOrchestrationDocument, {
          input: { query: `burst ${n}` },
        });
        if (killed) return;
        acknowledged.push(startOrchestration.id);
        subscribe(startOrchestration.id);
        if (acknowledged.length === KILL_AFTER_ACKNOWLEDGED) {
          killed = true;
          first.child.kill("SIGKILL");
        }
      };
      let next = 0;
      const worker = async () => {
        while (!killed && next < BURST) await startOne(next++).catch(() => undefined);
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
      const [, signal] = await exited;
      expect(signal).toBe("SIGKILL");
      await ws.dispose();
      expect(acknowledged).toHaveLength(KILL_AFTER_ACKNOWLEDGED);
      expect([...delivered.values()].some((events) => events.length > 0)).toBe(true);

      const second = spawnServer(dataDir);
      children.push(second.child);
      const again = await second.listening;
      for (const id of acknowledged) {
        const { orchestration } = await request(again, OrchestrationDocument, { id });
        expect(orchestration?.id).toBe(id);
        const log = await request(again, OrchestrationEventLogDocument, { id });
        const stored = (log.orchestration?.events ?? []).map((e) => ({
          seq: e.seq,
          __typename: e.__typename,
          at: e.at,
        }));
        // Every delivered event is stored, with the same seq, type and time.
        expect(stored.slice(0, delivered.get(id)?.length ?? 0)).toEqual(delivered.get(id));
      }
      second.child.kill("SIGTERM");
      await once(second.child, "exit");
    } finally {
      await removeDir(dataDir);
    }
  });
});
