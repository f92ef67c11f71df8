import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ed25519FromSeed, ed25519Verify } from "../../src/domain/ed25519.js";
import { nodeEd25519FromSeed } from "../../src/orchestrator/node-ed25519.js";

/**
 * The server signs with node:crypto, the browser and the SDK verify with the pure-JavaScript Ed25519:
 * for the same seed both give the same public key and byte-identical signatures (RFC 8032 signing is
 * deterministic), so checkpoints signed before and after the switch are indistinguishable.
 */
describe("node:crypto Ed25519 signer", () => {
  const seeds = fc.uint8Array({ minLength: 32, maxLength: 32 });
  const messages = fc.uint8Array({ maxLength: 400 });

  it("derives the same public key and signs byte-identically to @noble", () => {
    fc.assert(
      fc.property(seeds, messages, (seed, message) => {
        const node = nodeEd25519FromSeed(seed);
        const noble = ed25519FromSeed(seed);
        expect(Buffer.from(node.publicKey)).toEqual(Buffer.from(noble.publicKey));
        const signature = node.sign(message);
        expect(Buffer.from(signature)).toEqual(Buffer.from(noble.sign(message)));
        expect(ed25519Verify(node.publicKey, message, signature)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it("keeps its key when the caller's seed array changes", () => {
    const seed = new Uint8Array(32).fill(7);
    const node = nodeEd25519FromSeed(seed);
    const message = new TextEncoder().encode("checkpoint");
    const before = node.sign(message);
    seed.fill(9);
    expect(Buffer.from(node.sign(message))).toEqual(Buffer.from(before));
    expect(Buffer.from(node.sign(message))).toEqual(
      Buffer.from(ed25519FromSeed(new Uint8Array(32).fill(7)).sign(message)),
    );
  });

  it("refuses a seed of the wrong length with BAD_USER_INPUT", () => {
    expect(() => nodeEd25519FromSeed(new Uint8Array(31))).toThrow(
      expect.objectContaining({ code: "BAD_USER_INPUT" }),
    );
  });
});
