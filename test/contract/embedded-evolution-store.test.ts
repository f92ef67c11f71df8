import { describe, expect, it } from "vitest";
import { createEmbeddedEvolutionStore } from "../../src/adapters/embedded/evolution-store.js";
import { anExperiment, aPoolMember, aRule } from "../fixtures/evolution-builders.js";
import { makeDataDir, removeDir } from "../support/server.js";
import { evolutionStoreContract } from "./evolution-store.contract.js";

evolutionStoreContract({
  name: "embedded (in memory)",
  create: () => createEmbeddedEvolutionStore({ dataDir: null }),
});

const dirs = new WeakMap<object, string>();
evolutionStoreContract({
  name: "embedded (data dir)",
  create: async () => {
    const dataDir = await makeDataDir();
    const store = await createEmbeddedEvolutionStore({ dataDir });
    dirs.set(store, dataDir);
    return store;
  },
  destroy: async (store) => {
    await store.close();
    const dir = dirs.get(store);
    if (dir !== undefined) await removeDir(dir);
  },
});

describe("embedded evolution store on disk", () => {
  it("keeps everything across a close and reopen", async () => {
    const dataDir = await makeDataDir();
    try {
      const first = await createEmbeddedEvolutionStore({ dataDir });
      const member = aPoolMember();
      const experiment = anExperiment();
      const rule = aRule();
      await first.pools.saveMember("tenant-a", member);
      await first.experiments.append("tenant-a", [experiment]);
      await first.rules.add("tenant-a", [rule]);
      await first.close();
      const second = await createEmbeddedEvolutionStore({ dataDir });
      expect((await second.pools.load("tenant-a")).members).toStrictEqual([member]);
      expect(await second.experiments.listAll("tenant-a")).toStrictEqual([experiment]);
      expect(await second.rules.add("tenant-a", [{ ...rule, id: "rule-again" }])).toStrictEqual([]);
      await second.close();
    } finally {
      await removeDir(dataDir);
    }
  });
});
