import { existsSync } from "node:fs";
import { appendFile, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFileAnchor } from "../../src/adapters/anchor/file-anchor.js";
import { ANCHOR_INDEX_ENTRY_BYTES, anchorIndexPath } from "../../src/adapters/anchor/file-anchor-index.js";
import { DEFAULT_ANCHOR_CHECKPOINT_INTERVAL } from "../../src/domain/anchor.js";
import { AppError } from "../../src/domain/errors.js";
import type { AnchorBackend } from "../../src/ports/anchor.js";
import { anAnchorEntry } from "../fixtures/provenance-builders.js";
import { makeDataDir, perDataDir, removeDir } from "../support/data-dirs.js";
import { descriptorsInto } from "../support/descriptors.js";
import { steppingClock } from "../support/orchestrator.js";
import { anchorBackendContract } from "./anchor-backend.contract.js";

const FILE = "anchors.jsonl";
const INTERVAL = DEFAULT_ANCHOR_CHECKPOINT_INTERVAL;
const backends = perDataDir((dir) => createFileAnchor({ path: join(dir, FILE), clock: steppingClock() }));
const pathOf = (backend: AnchorBackend) => join(backends.resourceOf(backend), FILE);
const lines = async (path: string) => (await readFile(path, "utf8")).split("\n").slice(0, -1);

anchorBackendContract({
  name: "file",
  ...backends,
  reopen: async (backend) => createFileAnchor({ path: pathOf(backend), clock: steppingClock() }),
  tamper: async (backend, seq, change) => {
    const all = await lines(pathOf(backend));
    if (change === "delete") all.splice(seq, 1);
    else all[seq] = all[seq]!.replace(/"treeSize":(\d+)/, (_, n) => `"treeSize":${Number(n) + 100}`);
    await writeFile(pathOf(backend), all.map((l) => `${l}\n`).join(""));
  },
  dropCheckpoints: (backend) => rm(anchorIndexPath(pathOf(backend)), { force: true }),
  corruptCheckpoints: async (backend) => {
    const index = anchorIndexPath(pathOf(backend));
    await writeFile(
      index,
      (await readFile(index, "utf8")).replace(/ [0-9a-f]{64}\n/g, ` ${"f".repeat(64)}\n`),
    );
  },
});

describe("file anchor specifics", () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await makeDataDir();
    path = join(dir, "nested", FILE);
  });
  afterEach(() => removeDir(dir));

  const anchorThree = async () => {
    const backend = createFileAnchor({ path, clock: steppingClock() });
    const receipts = [];
    for (let i = 0; i < 3; i++) receipts.push(await backend.anchor(anAnchorEntry()));
    await backend.close();
    return receipts;
  };

  it("writes one canonical JSON line per record, each carrying the previous line's SHA-256", async () => {
    const receipts = await anchorThree();
    const written = await lines(path);
    expect(written).toHaveLength(3);
    const { createHash } = await import("node:crypto");
    for (let i = 1; i < 3; i++) {
      expect(JSON.parse(written[i]!).prevHash).toBe(
        createHash("sha256")
          .update(written[i - 1]!)
          .digest("hex"),
      );
    }
    expect(receipts.map((r) => r.anchorId)).toStrictEqual([`${FILE}#0`, `${FILE}#1`, `${FILE}#2`]);
  });

  it("detects a whitespace-only edit and swapped lines", async () => {
    const receipts = await anchorThree();
    const original = await lines(path);
    const backend = createFileAnchor({ path, clock: steppingClock() });
    await writeFile(
      path,
      [original[0], original[1]!.replace(":", ": "), original[2]].map((l) => `${l}\n`).join(""),
    );
    expect(await backend.verify(receipts[1]!)).toMatchObject({
      valid: false,
      reason: expect.stringMatching(/line 2/),
    });
    await writeFile(path, [original[0], original[2], original[1]].map((l) => `${l}\n`).join(""));
    expect((await backend.verify(receipts[2]!)).valid).toBe(false);
    expect((await backend.verify(receipts[0]!)).valid).toBe(true);
  });

  it("refuses to extend a chain that does not recompute", async () => {
    await anchorThree();
    const original = await lines(path);
    original[0] = original[0]!.replace(/"runId":"[^"]+"/, '"runId":"forged"');
    await writeFile(path, original.map((l) => `${l}\n`).join(""));
    const backend = createFileAnchor({ path, clock: steppingClock() });
    await expect(backend.anchor(anAnchorEntry())).rejects.toThrow(AppError);
    expect(await lines(path)).toHaveLength(3);
  });

  it("drops a torn last line (never acknowledged) and continues the chain after it", async () => {
    const receipts = await anchorThree();
    await appendFile(path, '{"entry":{"checkpointHash":"ab');
    const backend = createFileAnchor({ path, clock: steppingClock() });
    const next = await backend.anchor(anAnchorEntry());
    expect(next).toMatchObject({ seq: 3, prevHash: receipts[2]?.recordHash });
    expect(await lines(path)).toHaveLength(4);
    expect((await backend.verify(next)).valid).toBe(true);
  });

  it("keeps one descriptor on the file while anchoring and none after close", async () => {
    const backend = createFileAnchor({ path, clock: steppingClock() });
    for (let i = 0; i < 3; i++) await backend.anchor(anAnchorEntry());
    if (existsSync("/proc/self/fd")) expect(await descriptorsInto(dir)).toHaveLength(1);
    await backend.close();
    expect(await descriptorsInto(dir)).toStrictEqual([]);
    expect(await lines(path)).toHaveLength(3);
  });

  it("never lets its index decide: entries at wrong lines, cut short, garbage or from another chain", async () => {
    const backend = createFileAnchor({ path, clock: steppingClock() });
    const receipts = [];
    for (let i = 0; i < 2 * INTERVAL + 4; i++) receipts.push(await backend.anchor(anAnchorEntry()));
    await backend.close();
    const index = anchorIndexPath(path);
    const good = await readFile(index, "utf8");
    const [first, second] = [good.slice(0, ANCHOR_INDEX_ENTRY_BYTES), good.slice(ANCHOR_INDEX_ENTRY_BYTES)];
    const otherDir = join(dir, "other");
    const other = createFileAnchor({
      path: join(otherDir, FILE),
      clock: steppingClock(Date.UTC(2027, 0, 1)),
    });
    for (let i = 0; i < 2 * INTERVAL; i++) await other.anchor(anAnchorEntry());
    await other.close();
    const damaged = {
      // each entry's offset and hash given to the other checkpoint's seq
      swapped: `${first.slice(0, 16)}${second.slice(16)}${second.slice(0, 16)}${first.slice(16)}`,
      cut: good.slice(0, ANCHOR_INDEX_ENTRY_BYTES + 7),
      garbage: "x".repeat(good.length),
      foreign: await readFile(anchorIndexPath(join(otherDir, FILE)), "utf8"),
    };
    for (const [name, text] of Object.entries(damaged)) {
      await writeFile(index, text);
      const verifier = createFileAnchor({ path, clock: steppingClock() });
      for (const r of receipts)
        expect({ name, ...(await verifier.verify(r)) }).toStrictEqual({ name, valid: true, reason: null });
      await verifier.close();
      // The verifier put the index right once the whole chain recomputed.
      expect(await readFile(index, "utf8")).toBe(good);
    }
    const changed = await lines(path);
    changed[INTERVAL + 3] = changed[INTERVAL + 3]!.replace(/"treeSize":(\d)/, '"treeSize":9');
    await writeFile(path, changed.map((l) => `${l}\n`).join(""));
    await writeFile(index, damaged.foreign);
    const verifier = createFileAnchor({ path, clock: steppingClock() });
    const results = [];
    for (const r of receipts) results.push((await verifier.verify(r)).valid);
    await verifier.close();
    expect(results).toStrictEqual(receipts.map((r) => r.seq < INTERVAL + 3));
  });

  it("reports a missing file as invalid, not as an error", async () => {
    const [receipt] = await anchorThree();
    const elsewhere = createFileAnchor({ path: join(dir, "missing.jsonl"), clock: steppingClock() });
    expect(await elsewhere.verify(receipt!)).toStrictEqual({
      valid: false,
      reason: "the anchor file does not exist",
    });
  });
});
