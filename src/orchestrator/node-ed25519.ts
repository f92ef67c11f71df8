import { createPrivateKey, createPublicKey, sign } from "node:crypto";
import { ED25519_KEY_BYTES, type Ed25519Signer } from "../domain/ed25519.js";
import { badInput } from "../domain/errors.js";

/**
 * The server's Ed25519 signer on node:crypto (OpenSSL): a checkpoint signature costs a few
 * microseconds instead of the pure-JavaScript signer's ~1 ms. Ed25519 (RFC 8032) is deterministic,
 * so for the same seed and message the signature is byte-identical to domain/ed25519.ts's (which the
 * browser and the SDK keep for verification); test/unit/node-ed25519.test.ts pins that.
 */

/** DER prefix that wraps a raw 32-byte Ed25519 seed as PKCS#8 (RFC 8410 §7). */
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
/** DER prefix of an Ed25519 public key as SPKI (RFC 8410 §4); the raw key follows it. */
const SPKI_ED25519_PREFIX_BYTES = 12;

/** The key pair of a 32-byte Ed25519 seed, signing with node:crypto. BAD_USER_INPUT for a wrong length. */
export const nodeEd25519FromSeed = (seed: Uint8Array): Ed25519Signer => {
  if (seed.length !== ED25519_KEY_BYTES) {
    throw badInput(`An Ed25519 seed is ${ED25519_KEY_BYTES} bytes; got ${seed.length}.`);
  }
  // The key object is built once; it copies the seed, so the caller's array may change.
  const key = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: "der",
    type: "pkcs8",
  });
  const spki = createPublicKey(key).export({ format: "der", type: "spki" });
  const publicKey = new Uint8Array(spki.subarray(SPKI_ED25519_PREFIX_BYTES));
  return {
    publicKey,
    sign: (message) => new Uint8Array(sign(null, message, key)),
  };
};
