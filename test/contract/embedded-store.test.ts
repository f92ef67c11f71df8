import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEmbeddedStore } from "../../src/adapters/embedded/embedded-store.js";
import type { Store } from "../../src/ports/stores.js";
import { storeContract } from "./store.contract.js";

storeContract({ name: "embedded (in memory)", create: () => createEmbeddedStore({ dataDir: null }) });

const dirs = new WeakMap<Store, string>();
storeContract({
  name: "embedded (on disk)",
  create: async () => {
    const dir = await mkdtemp(join(tmpdir(), "vex-embedded-"));
    const store = await createEmbeddedStore({ dataDir: dir });
    dirs.set(store, dir);
    return store;
  },
  destroy: async (store) => {
    await store.close();
    const dir = dirs.get(store);
    if (dir) await rm(dir, { recursive: true, force: true });
  },
});
