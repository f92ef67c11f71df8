import type { Ed25519Signer } from "../domain/ed25519.js";
import { AppError, ErrorCode } from "../domain/errors.js";
import { fromBase64, toBase64 } from "../domain/signed-note.js";
import type { Clock } from "../ports/clock.js";
import type { SigningKeyStore } from "../ports/provenance-store.js";
import { nodeEd25519FromSeed } from "./node-ed25519.js";

/** Where the ledger signing key came from. */
export type SigningKeySource = "config" | "stored" | "generated";

/** Inputs of {@link loadSigningKey}. */
export interface SigningKeyOptions {
  readonly store: SigningKeyStore;
  /** The 32-byte Ed25519 seed from the configuration; when set, nothing is generated or stored. */
  readonly configuredSeed: Uint8Array | undefined;
  /** Fresh random 32 bytes (node:crypto's randomBytes in production). */
  readonly generateSeed: () => Uint8Array;
  readonly clock: Clock;
}

/**
 * The deployment's ledger signing key: the configured seed, else the one stored by an earlier start, else
 * a new one stored now (first writer wins, so servers sharing a store agree). A stored key whose public
 * key does not derive from its seed is refused.
 */
export const loadSigningKey = async (
  options: SigningKeyOptions,
): Promise<{ signer: Ed25519Signer; source: SigningKeySource }> => {
  if (options.configuredSeed !== undefined) {
    return { signer: nodeEd25519FromSeed(options.configuredSeed), source: "config" };
  }
  const seed = options.generateSeed();
  const candidate = {
    seed: toBase64(seed),
    publicKey: toBase64(nodeEd25519FromSeed(seed).publicKey),
    createdAt: options.clock.now(),
  };
  const stored = await options.store.getOrCreate(candidate);
  const signer = nodeEd25519FromSeed(fromBase64(stored.seed));
  if (toBase64(signer.publicKey) !== stored.publicKey) {
    throw new AppError(
      ErrorCode.Internal,
      "The stored ledger signing key is corrupt: its public key does not match.",
    );
  }
  return { signer, source: stored.seed === candidate.seed ? "generated" : "stored" };
};
