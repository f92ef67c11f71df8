import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { Config } from "../config.js";
import { ED25519_KEY_BYTES } from "../domain/ed25519.js";
import { createProvenanceHook } from "../orchestrator/provenance-hook.js";
import { createProvenanceService } from "../orchestrator/provenance-service.js";
import { loadSigningKey } from "../orchestrator/signing-key.js";
import type { AnchorBackend } from "../ports/anchor.js";
import type { Clock } from "../ports/clock.js";
import type { ProvenanceStore } from "../ports/provenance-store.js";
import type { Store } from "../ports/stores.js";

/**
 * Provenance: the signing key (configured, stored, or generated and stored), and the after-run hook
 * and read service over the ledger store and anchor backends.
 */
export const openProvenance = async (deps: {
  config: Config;
  store: Store;
  provenance: ProvenanceStore;
  anchors: readonly AnchorBackend[];
  clock: Clock;
  logger: Logger;
}) => {
  const { config, clock } = deps;
  const { signer, source } = await loadSigningKey({
    store: deps.provenance.signingKey,
    configuredSeed:
      config.provenance.signingKey === undefined
        ? undefined
        : new Uint8Array(Buffer.from(config.provenance.signingKey, "base64")),
    generateSeed: () => new Uint8Array(randomBytes(ED25519_KEY_BYTES)),
    clock,
  });
  const hookDeps = {
    provenance: deps.provenance,
    anchors: [...deps.anchors],
    signer,
    originPrefix: config.provenance.origin,
    clock,
  };
  const service = createProvenanceService({ ...hookDeps, store: deps.store });
  deps.logger.info(
    {
      source,
      anchors: config.provenance.anchors,
      defaultTenantKey: service.publicKey("default").verifierKey,
    },
    "ledger signing key loaded",
  );
  return { hook: createProvenanceHook(hookDeps), service };
};
