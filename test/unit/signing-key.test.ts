import { describe, expect, it } from "vitest";
import { createEmbeddedProvenanceStore } from "../../src/adapters/embedded/provenance-store.js";
import { ed25519FromSeed } from "../../src/domain/ed25519.js";
import { AppError } from "../../src/domain/errors.js";
import { toBase64 } from "../../src/domain/signed-note.js";
import { loadSigningKey } from "../../src/orchestrator/signing-key.js";
import { steppingClock } from "../support/orchestrator.js";

const seedOf = (byte: number) => new Uint8Array(32).fill(byte);

describe("the ledger signing key", () => {
  it("uses the configured seed and stores nothing", async () => {
    const store = await createEmbeddedProvenanceStore({ dataDir: null });
    const generated: number[] = [];
    const { signer, source } = await loadSigningKey({
      store: store.signingKey,
      configuredSeed: seedOf(3),
      generateSeed: () => {
        generated.push(1);
        return seedOf(4);
      },
      clock: steppingClock(),
    });
    expect(source).toBe("config");
    expect(toBase64(signer.publicKey)).toBe(toBase64(ed25519FromSeed(seedOf(3)).publicKey));
    expect(generated).toStrictEqual([]);
    const stored = await store.signingKey.getOrCreate({ seed: "x", publicKey: "y", createdAt: new Date() });
    expect(stored.seed).toBe("x");
  });

  it("is generated and stored on first start, then loaded from the store", async () => {
    const store = await createEmbeddedProvenanceStore({ dataDir: null });
    const options = { store: store.signingKey, configuredSeed: undefined, clock: steppingClock() };
    const first = await loadSigningKey({ ...options, generateSeed: () => seedOf(5) });
    const second = await loadSigningKey({ ...options, generateSeed: () => seedOf(6) });
    expect([first.source, second.source]).toStrictEqual(["generated", "stored"]);
    expect(toBase64(second.signer.publicKey)).toBe(toBase64(ed25519FromSeed(seedOf(5)).publicKey));
  });

  it("refuses a stored key whose public key does not derive from its seed", async () => {
    const store = await createEmbeddedProvenanceStore({ dataDir: null });
    await store.signingKey.getOrCreate({
      seed: toBase64(seedOf(7)),
      publicKey: toBase64(ed25519FromSeed(seedOf(8)).publicKey),
      createdAt: new Date(),
    });
    await expect(
      loadSigningKey({
        store: store.signingKey,
        configuredSeed: undefined,
        generateSeed: () => seedOf(9),
        clock: steppingClock(),
      }),
    ).rejects.toBeInstanceOf(AppError);
  });
});
