import { createHash } from "node:crypto";
import { deflateRawSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  COMPRESS_FROM_CHARS,
  currentDictionaryId,
  DICTIONARIES,
  DICTIONARY_FROM_CHARS,
  type DocKind,
  decodeDoc,
  encodeDoc,
  encodeEvent,
  MAX_DICTIONARY_ID,
} from "../../src/adapters/embedded/sqlite-codec.js";
import { aFinishedRun, anAgent, anAgentResult, anEvent, aTranscriptEntry } from "../fixtures/builders.js";

/**
 * The bytes of every dictionary ever written under an id. Rows compressed with a dictionary can only
 * be read with exactly these bytes: a changed dictionary must be added under a new id instead.
 */
const DICTIONARY_SHA256: Readonly<Record<number, string>> = {
  1: "6af96526ffaca4f948c6c86c8a82340ca7afe54d9251edef86a80faf3b48c18a",
  2: "e563ab8669d9081d5360dd11a34b8f97644d6a2d2144b20b63de830d2abd0338",
  3: "8bc98d7d24d69cbb09977b148d159b7986371373e196a2a96d2af5094149a84a",
  4: "95e13cd02a1c24e07ba5781418312f1076becc1af528d8d48c668818301c5d12",
};

const KINDS: readonly DocKind[] = ["run", "agent", "event", "provenance"];

const anAgentWithTranscript = () =>
  anAgent({
    state: "COMPLETED",
    result: anAgentResult(),
    transcript: [aTranscriptEntry(), aTranscriptEntry({ index: 1, round: 1 })],
    completedAt: new Date("2025-01-02T03:04:05.678Z"),
  });

describe("embedded document codec", () => {
  it("keeps every dictionary's bytes under its id", () => {
    const hashes = Object.fromEntries(
      [...DICTIONARIES].map(([id, bytes]) => [id, createHash("sha256").update(bytes).digest("hex")]),
    );
    expect(hashes).toEqual(DICTIONARY_SHA256);
  });

  it("has a dictionary for each kind that has one, and ids that fit the marker byte", () => {
    for (const kind of KINDS) expect(currentDictionaryId(kind)).not.toBeNull();
    expect(currentDictionaryId("other")).toBeNull();
    for (const id of DICTIONARIES.keys()) {
      expect(id).toBeGreaterThanOrEqual(1);
      expect(id).toBeLessThanOrEqual(MAX_DICTIONARY_ID);
    }
  });

  it("reads back every kind of document as written, dates included, smaller than its JSON", () => {
    const docs: [DocKind, unknown][] = [
      ["run", aFinishedRun()],
      ["agent", anAgentWithTranscript()],
      [
        "event",
        anEvent({
          body: {
            type: "AgentFailed",
            agent: anAgent(),
            error: { code: "LLM_TIMEOUT", message: "timed out" },
          },
        }),
      ],
      ["other", { text: "x".repeat(COMPRESS_FROM_CHARS), at: new Date(0) }],
      ["other", { short: true, at: new Date(1) }],
    ];
    for (const [kind, doc] of docs) {
      const stored = encodeDoc(doc, kind);
      expect(decodeDoc(stored)).toEqual(doc);
      if (kind !== "other") {
        expect(Buffer.isBuffer(stored)).toBe(true);
        expect((stored as Buffer).length).toBeLessThan(JSON.stringify(doc).length / 2);
      }
    }
  });

  it("keeps as text a document of a dictionary kind too short to shrink, and one rewritten in place", () => {
    for (const kind of KINDS) {
      expect(encodeDoc([], kind)).toBe("[]");
      const short = { s: "x".repeat(DICTIONARY_FROM_CHARS - '{"s":""}'.length - 1) };
      expect(encodeDoc(short, kind)).toBe(JSON.stringify(short));
      const atLimit = { s: "x".repeat(DICTIONARY_FROM_CHARS - '{"s":""}'.length) };
      expect(Buffer.isBuffer(encodeDoc(atLimit, kind))).toBe(true);
    }
    const member = { text: "x".repeat(COMPRESS_FROM_CHARS), at: new Date(2) };
    const stored = encodeDoc(member, "rewritten");
    expect(typeof stored).toBe("string");
    expect(decodeDoc(stored)).toEqual(member);
  });

  it("stores an event without what its row's columns hold", () => {
    const event = anEvent({ runId: "run-columns", tenantId: "tenant-columns", seq: 7 });
    const stored = decodeDoc<Record<string, unknown>>(encodeEvent(event));
    expect(stored).not.toHaveProperty("runId");
    expect(stored).not.toHaveProperty("tenantId");
    expect(stored).not.toHaveProperty("seq");
    expect({ ...stored, runId: "run-columns", tenantId: "tenant-columns", seq: 7 }).toEqual(event);
  });

  it("reads documents stored before dictionaries: JSON text and plain deflate", () => {
    const agent = anAgentWithTranscript();
    const text = JSON.stringify({
      ...agent,
      createdAt: { $$date: agent.createdAt.getTime() },
      completedAt: { $$date: agent.completedAt?.getTime() },
    });
    expect(decodeDoc(text)).toEqual(agent);
    expect(decodeDoc(deflateRawSync(text))).toEqual(agent);
  });

  it("never takes a plain deflate stream for a dictionary marker", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 2_000 }), (s) => {
        const packed = deflateRawSync(JSON.stringify({ s }));
        expect(decodeDoc(packed)).toEqual({ s });
      }),
      { numRuns: 300 },
    );
  });

  it("refuses a dictionary id it does not know with INTERNAL_SERVER_ERROR", () => {
    const unknown = MAX_DICTIONARY_ID;
    expect(DICTIONARIES.has(unknown)).toBe(false);
    const stored = Buffer.concat([Buffer.of((unknown << 3) | 0b110), deflateRawSync("{}")]);
    expect(() => decodeDoc(stored)).toThrow(expect.objectContaining({ code: "INTERNAL_SERVER_ERROR" }));
  });
});
