import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createFileAnchor } from "../../src/adapters/anchor/file-anchor.js";
import { createEmbeddedStore } from "../../src/adapters/embedded/embedded-store.js";
import { createEmbeddedProvenanceStore } from "../../src/adapters/embedded/provenance-store.js";
import { ensureIndexes } from "../../src/adapters/mongo/collections.js";
import { createMongoStore } from "../../src/adapters/mongo/mongo-store.js";
import {
  createMongoProvenanceStore,
  ensureProvenanceIndexes,
} from "../../src/adapters/mongo/provenance-store.js";
import { createOfflineLlm } from "../../src/adapters/offline-llm/offline-llm.js";
import { ed25519FromSeed } from "../../src/domain/ed25519.js";
import { createProvenanceHook } from "../../src/orchestrator/provenance-hook.js";
import type { ProvenanceStore } from "../../src/ports/provenance-store.js";
import type { Store } from "../../src/ports/stores.js";
import { withDataDir } from "../support/data-dirs.js";
import { mongoDatabases } from "../support/mongo.js";
import { createTestOrchestrator, drain, steppingClock } from "../support/orchestrator.js";

const TENANT = "tenant-a";
/** Runs before the one counted (and between the two counted points of the growth check). */
const EARLIER_RUNS = 5;
const MORE_RUNS = 15;
/**
 * Upper bound of store operations (port calls) of one default run with provenance: what it costs
 * today, so that a change that adds operations to the critical path fails here.
 */
const MAX_OPERATIONS_PER_RUN = 27;
/**
 * Upper bound of MongoDB commands of those operations: an update costs two (the owner is checked by
 * `_id`, then the update matches the `_id` alone, both answered from FerretDB's primary key).
 */
const MAX_MONGO_ROUND_TRIPS_PER_RUN = 47;

/** Counts the calls of every method of the stores' parts (runs, agents, events, ledger, …). */
const counting = <T extends object>(target: T, counts: Map<string, number>, prefix: string): T =>
  new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const name = `${prefix}.${String(prop)}`;
        counts.set(name, (counts.get(name) ?? 0) + 1);
        return value.apply(obj, args);
      };
    },
  });

const countedStores = (store: Store, provenance: ProvenanceStore, counts: Map<string, number>) => ({
  store: {
    ...store,
    runs: counting(store.runs, counts, "runs"),
    agents: counting(store.agents, counts, "agents"),
    events: counting(store.events, counts, "events"),
  } satisfies Store,
  provenance: {
    ...provenance,
    ledger: counting(provenance.ledger, counts, "ledger"),
    checkpoints: counting(provenance.checkpoints, counts, "checkpoints"),
    receipts: counting(provenance.receipts, counts, "receipts"),
    signingKey: counting(provenance.signingKey, counts, "signingKey"),
  } satisfies ProvenanceStore,
});

/** A default run's store operations, after `EARLIER_RUNS` and after `EARLIER_RUNS + MORE_RUNS` runs. */
const measure = async (
  rawStore: Store,
  rawProvenance: ProvenanceStore,
  dir: string,
  roundTrips: () => number,
) => {
  const counts = new Map<string, number>();
  const { store, provenance } = countedStores(rawStore, rawProvenance, counts);
  const clock = steppingClock();
  const hook = createProvenanceHook({
    provenance,
    anchors: [createFileAnchor({ path: join(dir, "anchors.jsonl"), clock })],
    signer: ed25519FromSeed(new Uint8Array(32).fill(7)),
    originPrefix: "vex.test/ledger",
    clock,
  });
  const { orchestrator } = await createTestOrchestrator(createOfflineLlm(), { store, clock, hooks: [hook] });
  const run = async () => {
    const started = await orchestrator.start(TENANT, { query: "how many operations?" });
    await drain(await orchestrator.events(TENANT, started.id, 0));
  };
  const oneRun = async () => {
    counts.clear();
    const before = roundTrips();
    await run();
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    return { total, roundTrips: roundTrips() - before, byOperation: Object.fromEntries(counts) };
  };
  for (let i = 0; i < EARLIER_RUNS; i++) await run();
  const early = await oneRun();
  for (let i = 0; i < MORE_RUNS; i++) await run();
  const late = await oneRun();
  await orchestrator.shutdown(0);
  return { early, late };
};

/**
 * A run's own operations: the log reads of the subscriber that waits for the run are left out, as
 * their number depends on how often it catches up with the live events, not on the run.
 */
const ownOperations = (m: { byOperation: Record<string, number>; roundTrips: number }) => {
  const { "events.list": readerReads = 0, ...own } = m.byOperation;
  return { own, roundTrips: m.roundTrips - readerReads };
};

/**
 * Round trips a checkpoint's root may add as the ledger grows: it reads one stored subtree root per
 * set bit of the ledger's size (one `_id` lookup each on MongoDB) and fills in the few nodes the new
 * entries completed, so at most two per bit of the size.
 */
const rootReadsAt = (ledgerSize: number) => 2 * Math.ceil(Math.log2(ledgerSize + 1));

const expectFewAndFlat = (m: Awaited<ReturnType<typeof measure>>) => {
  const own = Object.values(ownOperations(m.early).own).reduce((a, b) => a + b, 0);
  expect(own).toBeLessThanOrEqual(MAX_OPERATIONS_PER_RUN);
  // The same run makes the same store calls whatever the history before it …
  expect(ownOperations(m.late).own).toStrictEqual(ownOperations(m.early).own);
  // … and its round trips grow at most with the logarithm of the ledger's size.
  expect(ownOperations(m.late).roundTrips).toBeLessThanOrEqual(
    ownOperations(m.early).roundTrips + rootReadsAt(EARLIER_RUNS + MORE_RUNS + 2),
  );
};

const mongo = await mongoDatabases("vex_ops");
afterAll(mongo.cleanup);

describe("store operations of a default run", () => {
  it("embedded SQLite: few, and the same at 5 and 20 earlier runs", { timeout: 300_000 }, async () => {
    await withDataDir(async (dir) => {
      const store = await createEmbeddedStore({ dataDir: dir });
      const provenance = await createEmbeddedProvenanceStore({ dataDir: dir });
      const m = await measure(store, provenance, dir, () => 0);
      console.info("embedded operations per run", m.early.total, JSON.stringify(m.early.byOperation));
      expectFewAndFlat(m);
      await provenance.close();
      await store.close();
    });
  });

  it("MongoDB: few round trips, and the same at 5 and 20 earlier runs", { timeout: 300_000 }, async () => {
    await withDataDir(async (dir) => {
      const { client, dbName, db } = await mongo.create();
      await ensureIndexes(db);
      await ensureProvenanceIndexes(db);
      let commands = 0;
      const onCommand = () => commands++;
      // The client's command monitoring counts every command the driver sends: the round trips.
      client.on("commandStarted", onCommand);
      const m = await measure(
        createMongoStore({ client, dbName }),
        createMongoProvenanceStore({ client, dbName }),
        dir,
        () => commands,
      );
      client.off("commandStarted", onCommand);
      console.info("mongo operations per run", m.early.total, "round trips", m.early.roundTrips);
      expectFewAndFlat(m);
      expect(ownOperations(m.early).roundTrips).toBeLessThanOrEqual(MAX_MONGO_ROUND_TRIPS_PER_RUN);
    });
  });
});
