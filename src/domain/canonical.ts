import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import canonicalize from "canonicalize";
import { AppError, ErrorCode } from "./errors.js";

/**
 * RFC 8785 (JCS) canonical JSON of `value`: keys sorted by UTF-16 code units, ECMAScript number formatting,
 * minimal string escaping, no whitespace. Throws an INTERNAL_SERVER_ERROR AppError when the value has no
 * canonical form (undefined/function/symbol at the top, NaN or ±Infinity, BigInt, lone surrogates, cycles).
 */
export function canonicalJson(value: unknown): string {
  let json: string | undefined;
  try {
    json = canonicalize(value);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new AppError(ErrorCode.Internal, `Value cannot be canonicalised as JSON (RFC 8785): ${reason}`, {
      cause,
    });
  }
  if (json === undefined) {
    throw new AppError(
      ErrorCode.Internal,
      `Value cannot be canonicalised as JSON (RFC 8785): ${typeof value} has no JSON representation`,
    );
  }
  return json;
}

/** UTF-8 bytes of {@link canonicalJson}. */
export function canonicalBytes(value: unknown): Uint8Array {
  return utf8ToBytes(canonicalJson(value));
}

/** Lowercase hex SHA-256 of `data` (a string is hashed as its UTF-8 bytes). No domain prefix. */
export function sha256Hex(data: Uint8Array | string): string {
  return bytesToHex(sha256(typeof data === "string" ? utf8ToBytes(data) : data));
}
