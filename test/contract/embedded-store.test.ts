import { createEmbeddedStore } from "../../src/adapters/embedded/embedded-store.js";
import { perDataDir } from "../support/data-dirs.js";
import { storeContract } from "./store.contract.js";

storeContract({ name: "embedded (in memory)", create: () => createEmbeddedStore({ dataDir: null }) });

storeContract({
  name: "embedded (on disk)",
  ...perDataDir((dataDir) => createEmbeddedStore({ dataDir })),
});
