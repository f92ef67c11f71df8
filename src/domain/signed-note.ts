import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { ED25519_KEY_BYTES, type Ed25519Signer, ed25519Verify } from "./ed25519.js";
import { badInput } from "./errors.js";

/**
 * C2SP signed notes (https://c2sp.org/signed-note, as implemented by golang.org/x/mod/sumdb/note): a text
 * ending in a newline, a blank line, then signature lines `— <key name> <base64(key ID ‖ signature)>`.
 * Only Ed25519 (signature type 0x01) is produced and verified.
 */

/** Signature type identifier byte of Ed25519 in the signed-note spec. */
export const NOTE_ED25519_TYPE = 0x01;
/** Length in bytes of the key ID that starts every note signature. */
export const NOTE_KEY_ID_BYTES = 4;
/** Most signature lines a note may carry before it is rejected (Go's sumdb/note limit). */
export const MAX_NOTE_SIGNATURES = 100;

const SIGNATURE_PREFIX = "\u2014 "; // em dash, space
const NEWLINE = 0x0a;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the spec forbids exactly these characters.
const FORBIDDEN_CONTROL = /[\u0000-\u0009\u000b-\u001f]/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Key names must be non-empty and contain neither Unicode spaces nor "+" (signed-note §Format). */
export const isValidKeyName = (name: string): boolean => name.length > 0 && !/[\s+]/u.test(name);

/**
 * The spec's RECOMMENDED Ed25519 key ID: the first four bytes, big-endian, of
 * SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ 32-byte public key) (signed-note §Ed25519 signatures).
 */
export const noteKeyId = (keyName: string, publicKey: Uint8Array): number => {
  const digest = sha256(
    concatBytes(utf8ToBytes(keyName), Uint8Array.of(NEWLINE, NOTE_ED25519_TYPE), publicKey),
  );
  return new DataView(digest.buffer, digest.byteOffset).getUint32(0, false);
};

/** A key ID as the 8 lowercase hex digits Go's verifier keys use. */
export const keyIdHex = (keyId: number): string => keyId.toString(16).padStart(2 * NOTE_KEY_ID_BYTES, "0");

/** The verifier key string of golang.org/x/mod/sumdb/note: `<name>+<hex key ID>+<base64(0x01 ‖ public key)>`. */
export const noteVerifierKey = (keyName: string, publicKey: Uint8Array): string =>
  `${keyName}+${keyIdHex(noteKeyId(keyName, publicKey))}+${toBase64(concatBytes(Uint8Array.of(NOTE_ED25519_TYPE), publicKey))}`;

/** A trusted key: its name and 32-byte Ed25519 public key. */
export interface NoteVerifier {
  readonly keyName: string;
  readonly publicKey: Uint8Array;
}

/** Parses a Go-style verifier key; throws BAD_USER_INPUT when it is malformed or its key ID does not match. */
export const parseNoteVerifierKey = (vkey: string): NoteVerifier => {
  // Like Go's NewVerifier: the name and ID end at the first two "+"; the base64 key may hold more.
  const [keyName = "", idHex = "", ...tail] = vkey.split("+");
  const keyB64 = tail.join("+");
  const key = BASE64.test(keyB64) ? fromBase64(keyB64) : new Uint8Array();
  if (!isValidKeyName(keyName) || !/^[0-9a-f]{8}$/.test(idHex) || toBase64(key) !== keyB64) {
    throw badInput("Malformed verifier key.");
  }
  if (key.length !== 1 + ED25519_KEY_BYTES || key[0] !== NOTE_ED25519_TYPE) {
    throw badInput("The verifier key is not an Ed25519 key.");
  }
  const publicKey = key.subarray(1);
  if (keyIdHex(noteKeyId(keyName, publicKey)) !== idHex)
    throw badInput("The verifier key's ID does not match.");
  return { keyName, publicKey };
};

/**
 * Signs `text` (which must end in a newline and hold no control characters but newlines) and returns the
 * signed note: the text, a blank line and one signature line.
 */
export const signNote = (text: string, keyName: string, signer: Ed25519Signer): string => {
  if (!text.endsWith("\n") || FORBIDDEN_CONTROL.test(text)) {
    throw badInput("A note text must end in a newline and contain no control characters but newlines.");
  }
  if (!isValidKeyName(keyName)) throw badInput(`Invalid note key name: ${JSON.stringify(keyName)}.`);
  const id = new Uint8Array(NOTE_KEY_ID_BYTES);
  new DataView(id.buffer).setUint32(0, noteKeyId(keyName, signer.publicKey), false);
  const signature = signer.sign(utf8ToBytes(text));
  return `${text}\n${SIGNATURE_PREFIX}${keyName} ${toBase64(concatBytes(id, signature))}\n`;
};

/** The outcome of {@link openNote}: the signed text, or why the note was rejected. */
export type OpenedNote =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly reason: string };

/**
 * Opens a signed note against one trusted key, following golang.org/x/mod/sumdb/note `Open`: the text ends
 * at the last blank line; signatures from other keys are ignored; a signature from the trusted key that
 * fails rejects the note, and a note with no verified signature from it is rejected.
 */
export const openNote = (note: string, verifier: NoteVerifier): OpenedNote => {
  const fail = (reason: string): OpenedNote => ({ ok: false, reason });
  if (FORBIDDEN_CONTROL.test(note)) return fail("malformed note: control characters");
  const split = note.lastIndexOf("\n\n");
  if (split < 0) return fail("malformed note: no blank line before the signatures");
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block.length === 0 || !block.endsWith("\n")) return fail("malformed note: signature block");
  const lines = block.slice(0, -1).split("\n");
  if (lines.length > MAX_NOTE_SIGNATURES) return fail("malformed note: too many signatures");
  const wantId = noteKeyId(verifier.keyName, verifier.publicKey);
  let verified = false;
  for (const line of lines) {
    if (!line.startsWith(SIGNATURE_PREFIX)) return fail("malformed note: a signature line lacks the em dash");
    const body = line.slice(SIGNATURE_PREFIX.length);
    const space = body.indexOf(" ");
    const name = space < 0 ? body : body.slice(0, space);
    const b64 = space < 0 ? "" : body.slice(space + 1);
    const sig = BASE64.test(b64) ? fromBase64(b64) : new Uint8Array();
    if (!isValidKeyName(name) || toBase64(sig) !== b64) return fail("malformed note: a signature line");
    if (sig.length <= NOTE_KEY_ID_BYTES) return fail("malformed note: a signature is too short");
    const id = new DataView(sig.buffer, sig.byteOffset).getUint32(0, false);
    if (name !== verifier.keyName || id !== wantId) continue;
    if (!ed25519Verify(verifier.publicKey, utf8ToBytes(text), sig.subarray(NOTE_KEY_ID_BYTES))) {
      return fail(`invalid signature for key ${name}+${keyIdHex(id)}`);
    }
    verified = true;
  }
  return verified
    ? { ok: true, text }
    : fail(`no signature from key ${verifier.keyName}+${keyIdHex(wantId)}`);
};

// btoa/atob rather than Node's Buffer: this module runs in browsers too (the web view's verifier).

/** Standard base64 (RFC 4648 §4) of `bytes`. */
export const toBase64 = (bytes: Uint8Array): string => {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
};

/**
 * Decodes standard base64; empty for input that is not base64. Callers check the alphabet first when the
 * input is untrusted, and that re-encoding gives the input back (only canonical encodings are accepted).
 */
export const fromBase64 = (b64: string): Uint8Array => {
  try {
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  } catch {
    return new Uint8Array();
  }
};
