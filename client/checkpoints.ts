import { parseCheckpointText, type TreeHead } from "../src/domain/checkpoint.js";
import { toHex } from "../src/domain/merkle.js";
import { type NoteVerifier, openNote, parseNoteVerifierKey } from "../src/domain/signed-note.js";
import type { CheckpointFieldsFragment, LedgerPublicKeyFieldsFragment } from "./generated/graphql.js";

/**
 * The signed-checkpoint checks of client/verify.ts. The Ed25519 signature check is src/domain/ed25519.ts's
 * (pure JavaScript), so the web view checks signatures exactly as `vex verify` does.
 */

/** The trusted key from a verifier key string (pinned by the caller or read from the API). */
export const noteVerifierOf = (key: Pick<LedgerPublicKeyFieldsFragment, "verifierKey">): NoteVerifier =>
  parseNoteVerifierKey(key.verifierKey);

/** Opens a checkpoint note with the key and parses it; the head must match the fields beside the note. */
export const verifyCheckpoint = (
  checkpoint: CheckpointFieldsFragment,
  key: NoteVerifier,
): { readonly ok: true; readonly head: TreeHead } | { readonly ok: false; readonly reason: string } => {
  const opened = openNote(checkpoint.note, key);
  if (!opened.ok) return opened;
  const parsed = parseCheckpointText(opened.text);
  if (!parsed.ok) return parsed;
  const { head } = parsed;
  if (head.origin !== key.keyName)
    return { ok: false, reason: `origin ${head.origin} is not the key's name` };
  if (
    head.origin !== checkpoint.origin ||
    head.treeSize !== checkpoint.treeSize ||
    toHex(head.rootHash) !== checkpoint.rootHash
  ) {
    return { ok: false, reason: "the signed text differs from the checkpoint's fields" };
  }
  return { ok: true, head };
};
