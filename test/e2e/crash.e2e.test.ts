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
import { type ServerProcess, spawnServer } from "../support/processes.js";
import { makeDataDir, removeDir } from "../support/server.js";

/** Runs started in the burst; the process is killed once this many were acknowledged. */
const BURST = 200;
const KILL_AFTER_ACKNOWLEDGED = 25;
/** Mutations in flight at once during the burst. */
const IN_FLIGHT = 4;

/** The built server as its own process on `dataDir`, its limits raised for the burst. */
const spawnOn = (dataDir: string) =>
  spawnServer({
    VEX_DATA_DIR: dataDir,
    VEX_MAX_CONCURRENT_RUNS_PER_TENANT: String(BURST),
    VEX_RATE_LIMIT_PER_MINUTE: String(BURST * 10),
    VEX_RATE_LIMIT_BURST: String(BURST * 10),
  });

const servers: ServerProcess[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.kill();
});

type Delivered = { seq: number; __typename: string; at: unknown };

describe("a server killed (SIGKILL) in the middle of a burst of runs", () => {
  it("keeps every acknowledged run and every event it delivered to a subscriber", {
    timeout: 120_000,
  }, async () => {
    const dataDir = await makeDataDir();
    try {
      const first = await spawnOn(dataDir);
      servers.push(first);
      const { url } = first;
      const ws = wsClient(first.wsUrl);
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

      const second = await spawnOn(dataDir);
      servers.push(second);
      const again = second.url;
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
      expect(await second.stop()).toBe(0);
    } finally {
      await removeDir(dataDir);
    }
  });
});
