import { sha256 } from "@noble/hashes/sha2.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { checkpointText, ledgerOrigin, parseCheckpointText } from "../../src/domain/checkpoint.js";
import { ed25519FromSeed, ed25519Verify } from "../../src/domain/ed25519.js";
import {
  fromBase64,
  keyIdHex,
  noteKeyId,
  noteVerifierKey,
  openNote,
  parseNoteVerifierKey,
  signNote,
  toBase64,
} from "../../src/domain/signed-note.js";

/**
 * The example of golang.org/x/mod/sumdb/note (note.go package docs, golang/mod@a410e2d): its signer key
 * `PRIVATE+KEY+PeterNeumann+c74f20a3+<base64(0x01 ‖ seed)>`, its verifier key and the note it signs.
 * Ed25519 is deterministic, so signing the same text with the same seed must give the same bytes.
 */
const GO = {
  skeyData: "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
  name: "PeterNeumann",
  vkey: "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
  text: "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n",
  signature:
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
};
const goSigner = () => ed25519FromSeed(fromBase64(GO.skeyData).subarray(1));

/** Our own golden checkpoint: seed 00 01 … 1f, origin vex.test/ledger/tenant-a, size 3, root SHA-256("vex golden root"). */
const GOLDEN = {
  origin: "vex.test/ledger/tenant-a",
  seed: Uint8Array.from({ length: 32 }, (_, i) => i),
  root: sha256(utf8ToBytes("vex golden root")),
  note:
    "vex.test/ledger/tenant-a\n3\nJ/sXgSp8DgDfq3+K70MEMBqKi8X/3z8TZ+sSwh/WW/4=\n\n" +
    "— vex.test/ledger/tenant-a 9uOR0uDk/n1CYwaoTndyd2UrZzk+Aae4ugHS9tn5GKveCALazhP98+pXXJhUccp+0H82kWjxJwHUkBqf7XasL1BLpAc=\n",
  vkey: "vex.test/ledger/tenant-a+f6e391d2+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4",
};

describe("C2SP signed note against golang.org/x/mod/sumdb/note", () => {
  it("signs the Go example byte for byte and derives its verifier key (key ID c74f20a3)", () => {
    const signer = goSigner();
    expect(signNote(GO.text, GO.name, signer)).toBe(`${GO.text}\n${GO.signature}`);
    expect(noteVerifierKey(GO.name, signer.publicKey)).toBe(GO.vkey);
    expect(keyIdHex(noteKeyId(GO.name, signer.publicKey))).toBe("c74f20a3");
  });

  it("opens the Go example with its verifier key and rejects a changed text", () => {
    const key = parseNoteVerifierKey(GO.vkey);
    expect(openNote(`${GO.text}\n${GO.signature}`, key)).toStrictEqual({ ok: true, text: GO.text });
    const tampered = `${GO.text.replace("cryptography", "cryptographY")}\n${GO.signature}`;
    expect(openNote(tampered, key)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/invalid signature/),
    });
  });

  it("ignores signatures of unknown keys but needs one from the trusted key", () => {
    const other = ed25519FromSeed(new Uint8Array(32));
    const signedByOther = signNote(GO.text, "Other", other);
    const both = `${signedByOther}${GO.signature}`;
    expect(openNote(both, parseNoteVerifierKey(GO.vkey))).toMatchObject({ ok: true });
    expect(openNote(signedByOther, parseNoteVerifierKey(GO.vkey))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/no signature from key PeterNeumann\+c74f20a3/),
    });
  });

  it("rejects malformed notes", () => {
    const key = parseNoteVerifierKey(GO.vkey);
    const good = `${GO.text}\n${GO.signature}`;
    for (const bad of [
      GO.text,
      good.replace("— ", "-- "),
      good.replace("x08go", "x08g!"),
      good.slice(0, -1),
      good.replace("problem,", "problem,\t"),
    ]) {
      expect(openNote(bad, key).ok).toBe(false);
    }
  });

  it("refuses to sign text that is not a note text", () => {
    const signer = goSigner();
    expect(() => signNote("no newline", "k", signer)).toThrow();
    expect(() => signNote("tab\there\n", "k", signer)).toThrow();
    expect(() => signNote("ok\n", "bad name", signer)).toThrow();
    expect(() => signNote("ok\n", "bad+name", signer)).toThrow();
  });

  it("parses verifier keys like Go's NewVerifier, including base64 keys that contain '+'", () => {
    const key = parseNoteVerifierKey(GOLDEN.vkey);
    expect(key.keyName).toBe(GOLDEN.origin);
    expect(toBase64(key.publicKey)).toBe(toBase64(ed25519FromSeed(GOLDEN.seed).publicKey));
    expect(() => parseNoteVerifierKey(GOLDEN.vkey.replace("f6e391d2", "f6e391d3"))).toThrow(
      /ID does not match/,
    );
    expect(() => parseNoteVerifierKey("name+0000")).toThrow();
  });
});

describe("C2SP tlog-checkpoint", () => {
  it("formats the spec's example body byte for byte and parses it back", () => {
    // https://c2sp.org/tlog-checkpoint, the example at the top of the spec.
    const body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    const parsed = parseCheckpointText(body);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.head.origin).toBe("example.com/behind-the-sofa");
    expect(parsed.head.treeSize).toBe(20852163);
    expect(checkpointText(parsed.head)).toBe(body);
    expect(parsed.extensions).toStrictEqual([]);
  });

  it("signs a golden checkpoint, parses it back and verifies it with the public key", () => {
    const signer = ed25519FromSeed(GOLDEN.seed);
    const text = checkpointText({ origin: GOLDEN.origin, treeSize: 3, rootHash: GOLDEN.root });
    const note = signNote(text, GOLDEN.origin, signer);
    expect(note).toBe(GOLDEN.note);
    expect(noteVerifierKey(GOLDEN.origin, signer.publicKey)).toBe(GOLDEN.vkey);

    const opened = openNote(note, { keyName: GOLDEN.origin, publicKey: signer.publicKey });
    expect(opened).toStrictEqual({ ok: true, text });
    const parsed = opened.ok ? parseCheckpointText(opened.text) : null;
    expect(parsed).toMatchObject({
      ok: true,
      head: { origin: GOLDEN.origin, treeSize: 3, rootHash: GOLDEN.root },
    });

    // The signature line is base64(4-byte key ID ‖ 64-byte Ed25519 signature over the text).
    const sig = fromBase64(note.trimEnd().split(" ").at(-1) ?? "");
    expect(sig).toHaveLength(4 + 64);
    expect(Buffer.from(sig.subarray(0, 4)).toString("hex")).toBe("f6e391d2");
    expect(ed25519Verify(signer.publicKey, utf8ToBytes(text), sig.subarray(4))).toBe(true);
  });

  it("rejects checkpoint texts the spec forbids", () => {
    for (const bad of [
      "origin\n3\n",
      "origin\n03\nJ/sXgSp8DgDfq3+K70MEMBqKi8X/3z8TZ+sSwh/WW/4=\n",
      "origin\n-1\nJ/sXgSp8DgDfq3+K70MEMBqKi8X/3z8TZ+sSwh/WW/4=\n",
      "origin\n3\nAAAA\n",
      "origin\n3\nJ/sXgSp8DgDfq3+K70MEMBqKi8X/3z8TZ+sSwh/WW/4=",
      "\n3\nJ/sXgSp8DgDfq3+K70MEMBqKi8X/3z8TZ+sSwh/WW/4=\n",
    ]) {
      expect(parseCheckpointText(bad).ok).toBe(false);
    }
  });

  it("gives each tenant its own origin, never with spaces or '+'", () => {
    expect(ledgerOrigin("vex.test/ledger", "default")).toBe("vex.test/ledger/default");
    expect(ledgerOrigin("vex.test/ledger", "a b+c")).toBe("vex.test/ledger/a%20b%2Bc");
  });
});
