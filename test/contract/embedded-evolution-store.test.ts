import { describe, expect, it } from "vitest";
import { createEmbeddedEvolutionStore } from "../../src/adapters/embedded/evolution-store.js";
import { anExperiment, aPoolMember, aRule } from "../fixtures/evolution-builders.js";
import { perDataDir, withDataDir } from "../support/data-dirs.js";
import { evolutionStoreContract } from "./evolution-store.contract.js";

evolutionStoreContract({
  name: "embedded SQLite (in memory)",
  create: () => createEmbeddedEvolutionStore({ dataDir: null }),
});

const onDisk = perDataDir((dataDir) => createEmbeddedEvolutionStore({ dataDir }));
evolutionStoreContract({
  name: "embedded SQLite (file)",
  ...onDisk,
  peer: (store) => createEmbeddedEvolutionStore({ dataDir: onDisk.resourceOf(store) }),
});

describe("embedded evolution store on disk", () => {
  it("keeps everything across a close and reopen", async () => {
    await withDataDir(async (dataDir) => {
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
    });
  });
});
