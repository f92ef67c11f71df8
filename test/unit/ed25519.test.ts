import { createPrivateKey, createPublicKey, sign, verify } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ed25519FromSeed, ed25519Verify } from "../../src/domain/ed25519.js";

// DER prefixes that wrap a raw 32-byte key as PKCS#8 (private) and SPKI (public), RFC 8410 §7 and §4.
const PKCS8 = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI = Buffer.from("302a300506032b6570032100", "hex");
const nodeKey = (seed: Uint8Array) =>
  createPrivateKey({ key: Buffer.concat([PKCS8, seed]), format: "der", type: "pkcs8" });

/**
 * The pure-JavaScript Ed25519 (which the browser bundles) against the one the server used before,
 * node:crypto (OpenSSL): the same seed gives the same public key and the same signatures, so keys and
 * checkpoints stored by earlier versions keep verifying, and both accept exactly each other's output.
 */
describe("Ed25519 agrees with node:crypto", () => {
  const seeds = fc.uint8Array({ minLength: 32, maxLength: 32 });
  const messages = fc.uint8Array({ maxLength: 300 });

  it("derives the same public key and signs byte-identically", () => {
    fc.assert(
      fc.property(seeds, messages, (seed, message) => {
        const ours = ed25519FromSeed(seed);
        const key = nodeKey(seed);
        const spki = createPublicKey(key).export({ format: "der", type: "spki" });
        expect(Buffer.from(ours.publicKey)).toEqual(spki.subarray(SPKI.length));
        expect(Buffer.from(ours.sign(message))).toEqual(sign(null, message, key));
      }),
      { numRuns: 50 },
    );
  });

  it("verifies node:crypto's signatures, and node:crypto verifies ours; a flipped bit fails both", () => {
    fc.assert(
      fc.property(seeds, messages, fc.nat(511), (seed, message, bit) => {
        const ours = ed25519FromSeed(seed);
        const signature = new Uint8Array(sign(null, message, nodeKey(seed)));
        const publicKey = createPublicKey(nodeKey(seed));
        expect(ed25519Verify(ours.publicKey, message, signature)).toBe(true);
        expect(verify(null, message, publicKey, ours.sign(message))).toBe(true);
        const bad = signature.slice();
        bad[bit >> 3] = (bad[bit >> 3] ?? 0) ^ (1 << (bit & 7));
        expect(ed25519Verify(ours.publicKey, message, bad)).toBe(false);
        expect(verify(null, message, publicKey, bad)).toBe(false);
      }),
      { numRuns: 50 },
    );
  });

  it("refuses malformed keys and signatures without throwing", () => {
    const signer = ed25519FromSeed(new Uint8Array(32).fill(7));
    const sig = signer.sign(Uint8Array.of(1));
    expect(ed25519Verify(signer.publicKey.subarray(1), Uint8Array.of(1), sig)).toBe(false);
    expect(ed25519Verify(signer.publicKey, Uint8Array.of(1), sig.subarray(1))).toBe(false);
    expect(ed25519Verify(new Uint8Array(32).fill(0xff), Uint8Array.of(1), sig)).toBe(false);
    expect(() => ed25519FromSeed(new Uint8Array(31))).toThrow(/32 bytes/);
  });
});
