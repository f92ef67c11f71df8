import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createApiKeyFileStore } from "../../src/adapters/embedded/api-key-file-store.js";
import { createEmbeddedStore } from "../../src/adapters/embedded/embedded-store.js";
import { EMBEDDED_DB_FILE } from "../../src/adapters/embedded/sqlite.js";
import { aRun } from "../fixtures/builders.js";
import { expectAppError } from "../support/assertions.js";
import { perDataDir, withDataDir } from "../support/data-dirs.js";
import { storeContract } from "./store.contract.js";

storeContract({ name: "embedded SQLite (in memory)", create: () => createEmbeddedStore({ dataDir: null }) });

storeContract({
  name: "embedded SQLite (file)",
  ...perDataDir((dataDir) => createEmbeddedStore({ dataDir })),
});

describe("embedded store failures", () => {
  it("refuses a database file that is not one with STORE_UNAVAILABLE naming the file", async () => {
    await withDataDir(async (dataDir) => {
      await writeFile(join(dataDir, EMBEDDED_DB_FILE), "this is not a database, just some text ".repeat(200));
      const error = await expectAppError(createEmbeddedStore({ dataDir }), "STORE_UNAVAILABLE");
      expect(error.message).toContain(join(dataDir, EMBEDDED_DB_FILE));
      expect(error.message).toContain("VEX_DATA_DIR");
    });
  });

  it("refuses a corrupt API key file with STORE_UNAVAILABLE naming it, not a raw SyntaxError", async () => {
    await withDataDir(async (dataDir) => {
      const path = join(dataDir, "api-keys.json");
      await writeFile(path, "[{ half a key");
      const keys = await createApiKeyFileStore(path);
      const error = await expectAppError(keys.hasActiveKeys(), "STORE_UNAVAILABLE");
      expect(error.message).toContain(path);
      await writeFile(path, '{"not": "a list"}');
      await expectAppError(keys.findByHash("x"), "STORE_UNAVAILABLE");
    });
  });

  it("answers STORE_UNAVAILABLE once closed, for reads, writes and ping", async () => {
    const store = await createEmbeddedStore({ dataDir: null });
    await store.close();
    await expectAppError(store.ping(), "STORE_UNAVAILABLE");
    await expectAppError(store.runs.get("tenant-a", "run-1"), "STORE_UNAVAILABLE");
    await expectAppError(store.runs.create(aRun()), "STORE_UNAVAILABLE");
  });
});
