import { ed25519 } from "@noble/curves/ed25519.js";
import { badInput } from "./errors.js";

/**
 * Ed25519 (RFC 8032) from @noble/curves: pure JavaScript, so the same code signs on the server and
 * verifies in the browser and the SDK (node:crypto would keep it out of a browser bundle). Keys and
 * signatures are the RFC's byte strings, so checkpoints signed before (with node:crypto) verify unchanged.
 * The server signs with node:crypto (orchestrator/node-ed25519.ts), byte-identically; this one verifies.
 */

/** Size in bytes of an Ed25519 seed (the private key as RFC 8032 defines it) and of a public key. */
export const ED25519_KEY_BYTES = 32;
/** Size in bytes of an Ed25519 signature. */
export const ED25519_SIGNATURE_BYTES = 64;

/** An Ed25519 key pair that can sign; the seed never leaves it. */
export interface Ed25519Signer {
  /** The 32-byte RFC 8032 public key. */
  readonly publicKey: Uint8Array;
  /** RFC 8032 Ed25519 signature (64 bytes) of `message`; deterministic. */
  sign(message: Uint8Array): Uint8Array;
}

/** The key pair of a 32-byte Ed25519 seed. Throws BAD_USER_INPUT for a seed of the wrong length. */
export const ed25519FromSeed = (seed: Uint8Array): Ed25519Signer => {
  if (seed.length !== ED25519_KEY_BYTES) {
    throw badInput(`An Ed25519 seed is ${ED25519_KEY_BYTES} bytes; got ${seed.length}.`);
  }
  const secret = seed.slice(); // kept: the caller's array may change
  return {
    publicKey: ed25519.getPublicKey(secret),
    sign: (message) => ed25519.sign(message, secret),
  };
};

/**
 * RFC 8032 verification of an Ed25519 signature. False (never a throw) for a malformed key or signature.
 * Strict encodings (zip215 off), as RFC 8032 §5.1.7 and Go's crypto/ed25519 require: a non-canonical
 * signature that a lenient verifier would accept is refused here too.
 */
export const ed25519Verify = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean => {
  if (publicKey.length !== ED25519_KEY_BYTES || signature.length !== ED25519_SIGNATURE_BYTES) return false;
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
};
