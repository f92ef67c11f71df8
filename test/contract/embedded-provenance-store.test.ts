import { describe, expect, it } from "vitest";
import { createEmbeddedProvenanceStore } from "../../src/adapters/embedded/provenance-store.js";
import {
  aCheckpoint,
  aLedgerEntry,
  aReceipt,
  aSigningKey,
  leafHashOf,
} from "../fixtures/provenance-builders.js";
import { perDataDir, withDataDir } from "../support/data-dirs.js";
import { provenanceStoreContract } from "./provenance-store.contract.js";

provenanceStoreContract({
  name: "embedded SQLite (in memory)",
  create: () => createEmbeddedProvenanceStore({ dataDir: null }),
});

provenanceStoreContract({
  name: "embedded SQLite (file)",
  ...perDataDir((dataDir) => createEmbeddedProvenanceStore({ dataDir })),
});

describe("embedded provenance store on disk", () => {
  it("keeps the ledger, checkpoints, receipts and key across a close and reopen", async () => {
    await withDataDir(async (dataDir) => {
      const first = await createEmbeddedProvenanceStore({ dataDir });
      const entry = aLedgerEntry();
      const checkpoint = aCheckpoint();
      const receipt = aReceipt();
      const key = aSigningKey();
      await first.ledger.append("tenant-a", entry, leafHashOf(entry));
      await first.checkpoints.put(checkpoint);
      await first.receipts.add("tenant-a", entry.runId, receipt);
      await first.signingKey.getOrCreate(key);
      await first.close();

      const second = await createEmbeddedProvenanceStore({ dataDir });
      expect(await second.ledger.findByRun("tenant-a", entry.runId)).toMatchObject({ index: 0, entry });
      expect(await second.checkpoints.latest("tenant-a")).toStrictEqual(checkpoint);
      expect(await second.receipts.listByRun("tenant-a", entry.runId)).toStrictEqual([receipt]);
      expect(await second.signingKey.getOrCreate(aSigningKey({ seed: "other" }))).toStrictEqual(key);
      const next = aLedgerEntry();
      expect((await second.ledger.append("tenant-a", next, leafHashOf(next))).index).toBe(1);
      await second.close();
    });
  });
});
