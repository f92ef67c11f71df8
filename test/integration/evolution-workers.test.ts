import { MongoClient } from "mongodb";
import { afterAll, describe, expect, it } from "vitest";
import { createEmbeddedStore } from "../../src/adapters/embedded/embedded-store.js";
import { createEmbeddedEvolutionStore } from "../../src/adapters/embedded/evolution-store.js";
import { ensureIndexes } from "../../src/adapters/mongo/collections.js";
import {
  createMongoEvolutionStore,
  ensureEvolutionIndexes,
} from "../../src/adapters/mongo/evolution-store.js";
import { createMongoStore } from "../../src/adapters/mongo/mongo-store.js";
import type { EvolutionStore } from "../../src/ports/evolution-store.js";
import type { Store } from "../../src/ports/stores.js";
import { ScriptedLlm } from "../fakes/scripted-llm.js";
import { createEvolvingOrchestrator } from "../support/evolution.js";
import { mongoDatabases } from "../support/mongo.js";

const TENANT = "tenant-a";
/** Runs each worker starts at once: enough that the two workers' evolution steps interleave. */
const RUNS_PER_WORKER = 4;
/** Large enough that no genome is evicted, so every fitness observation stays countable. */
const POOL_SIZE = 100;

interface Stores {
  readonly store: Store;
  readonly evolutionStore: EvolutionStore;
  close(): Promise<void>;
}

const mongo = await mongoDatabases("vex_evo_workers");
afterAll(() => mongo.cleanup());

/** Each worker's stores: one SQLite database in this process, or its own MongoDB connection. */
const backends: { name: string; open(): Promise<[Stores, Stores]> }[] = [
  {
    name: "embedded SQLite",
    open: async () => {
      const store = await createEmbeddedStore({ dataDir: null });
      const evolutionStore = await createEmbeddedEvolutionStore({ dataDir: null });
      const shared = { store, evolutionStore, close: () => Promise.resolve() };
      return [
        shared,
        { ...shared, close: () => Promise.all([store.close(), evolutionStore.close()]).then() },
      ];
    },
  },
  {
    name: "MongoDB",
    open: async () => {
      const { dbName, db } = await mongo.create();
      await Promise.all([ensureIndexes(db), ensureEvolutionIndexes(db)]);
      const connect = async (): Promise<Stores> => {
        const client = await new MongoClient(mongo.uri).connect();
        return {
          store: createMongoStore({ client, dbName }),
          evolutionStore: createMongoEvolutionStore({ client, dbName }),
          close: () => client.close(),
        };
      };
      return [await connect(), await connect()];
    },
  },
];

describe.each(backends)("evolution of one tenant by two workers at once ($name)", ({ open }) => {
  it("loses no update: every step moves the pointer once and every agent's fitness counts once", async () => {
    const stores = await open();
    const workers = await Promise.all(
      stores.map((s, i) =>
        createEvolvingOrchestrator(new ScriptedLlm(), {
          stores: s,
          idPrefix: `worker${i}`,
          evolution: { maxPoolSize: POOL_SIZE },
        }),
      ),
    );
    try {
      const runs = await Promise.all(
        workers.flatMap((w) =>
          Array.from({ length: RUNS_PER_WORKER }, () => w.run(TENANT, { query: "q", evolution: "GENETIC" })),
        ),
      );
      for (const { events } of runs)
        expect(events.at(-1)).toMatchObject({ type: "RunFinished", status: "SUCCEEDED" });
      const steps = runs.length;
      const evolutionStore = stores[0].evolutionStore;
      expect((await evolutionStore.records.list(TENANT, { first: steps + 1 })).items).toHaveLength(steps);
      const { pools, members } = await evolutionStore.pools.load(TENANT);
      // One change per run, each from the version the previous change left (rebased when it raced).
      expect(pools.reduce((sum, p) => sum + p.evolutions, 0)).toBe(steps);
      const scored = runs.flatMap(({ run }) => run.leafOrder).length;
      expect(members.reduce((sum, m) => sum + m.stats.evaluations, 0)).toBe(scored);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
      for (const s of stores) await s.close();
    }
  });
});
