import { createPrivateKey, createPublicKey, sign, verify } from "node:crypto";
import { concatBytes, hexToBytes } from "@noble/hashes/utils.js";
import { badInput } from "./errors.js";

/** Size in bytes of an Ed25519 seed (the private key as RFC 8032 defines it) and of a public key. */
export const ED25519_KEY_BYTES = 32;
/** Size in bytes of an Ed25519 signature. */
export const ED25519_SIGNATURE_BYTES = 64;

// DER prefixes that wrap a raw 32-byte key as PKCS#8 (private) and SPKI (public), RFC 8410 §7 and §4.
const PKCS8_PREFIX = hexToBytes("302e020100300506032b657004220420");
const SPKI_PREFIX = hexToBytes("302a300506032b6570032100");

/** An Ed25519 key pair that can sign; the seed never leaves it. */
export interface Ed25519Signer {
  /** The 32-byte RFC 8032 public key. */
  readonly publicKey: Uint8Array;
  /** RFC 8032 Ed25519 signature (64 bytes) of `message`; deterministic. */
  sign(message: Uint8Array): Uint8Array;
}

/**
 * The key pair of a 32-byte Ed25519 seed (node:crypto underneath). Throws BAD_USER_INPUT for a seed of
 * the wrong length.
 */
export const ed25519FromSeed = (seed: Uint8Array): Ed25519Signer => {
  if (seed.length !== ED25519_KEY_BYTES) {
    throw badInput(`An Ed25519 seed is ${ED25519_KEY_BYTES} bytes; got ${seed.length}.`);
  }
  const privateKey = createPrivateKey({
    key: Buffer.from(concatBytes(PKCS8_PREFIX, seed)),
    format: "der",
    type: "pkcs8",
  });
  const spki = createPublicKey(privateKey).export({ format: "der", type: "spki" });
  const publicKey = new Uint8Array(spki.subarray(SPKI_PREFIX.length));
  return {
    publicKey,
    sign: (message) => new Uint8Array(sign(null, message, privateKey)),
  };
};

/**
 * RFC 8032 verification of an Ed25519 signature. False (never a throw) for a malformed key or signature.
 */
export const ed25519Verify = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean => {
  if (publicKey.length !== ED25519_KEY_BYTES || signature.length !== ED25519_SIGNATURE_BYTES) return false;
  try {
    const key = createPublicKey({
      key: Buffer.from(concatBytes(SPKI_PREFIX, publicKey)),
      format: "der",
      type: "spki",
    });
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
};
