import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Check, type RunProvenanceInput, verifyRunProvenance } from "../../client/verify.js";
import { ed25519FromSeed } from "../../src/domain/ed25519.js";
import { createProvenanceHarness, HARNESS_ORIGIN, type ProvenanceHarness } from "../support/provenance.js";

/**
 * The tamper suite on client/verify.ts: an honest run (executed in process, read through the generated
 * documents) passes every check; changing any value a client receives — any field of a result, a debate
 * round, the leaf order, a transcript, the ledger proof, a checkpoint, an anchor receipt, the consistency
 * proof — makes at least one check fail.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = readonly (string | number)[];

/**
 * Values that are locators or metadata, not claims, and are deliberately not verified: where a receipt
 * lives (anchorId, backend name), the server's free-text reason, when a checkpoint was stored, and an
 * agent's lifecycle state.
 */
const UNVERIFIED = [
  /\.anchorId$/,
  /\.backend$/,
  /\.verification\.reason$/,
  /\.createdAt$/,
  /^run\.agents\.\d+\.state$/,
];
/** Arrays whose order carries no meaning: agents are looked up by id, params form an object. */
const UNORDERED = [/^run\.agents$/, /\.request\.params$/];

const leaves = (value: Json, path: Path = []): Path[] =>
  Array.isArray(value)
    ? value.flatMap((v, i) => leaves(v, [...path, i]))
    : value !== null && typeof value === "object"
      ? Object.entries(value).flatMap(([k, v]) => leaves(v, [...path, k]))
      : [path];

const arrays = (value: Json, path: Path = []): Path[] =>
  Array.isArray(value)
    ? [path, ...value.flatMap((v, i) => arrays(v, [...path, i]))]
    : value !== null && typeof value === "object"
      ? Object.entries(value).flatMap(([k, v]) => arrays(v, [...path, k]))
      : [];

const name = (path: Path) => path.join(".");

/** A deep copy of `root` with the value at `path` replaced by `change(old)`. */
const changed = (root: Json, path: Path, change: (old: Json) => Json): Json => {
  const copy = structuredClone(root);
  let parent = copy as Record<string | number, Json>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, Json>;
  const last = path.at(-1)!;
  parent[last] = change(parent[last] ?? null);
  return copy;
};

const mutate = (old: Json): Json =>
  typeof old === "string"
    ? `${old}x`
    : typeof old === "number"
      ? old + 1
      : typeof old === "boolean"
        ? !old
        : "x";

const failing = (checks: readonly Check[]) => checks.filter((c) => !c.ok).map((c) => c.name);

let harness: ProvenanceHarness;
let honest: RunProvenanceInput;
let doc: Json;
const verify = (d: Json, key = honest.key) => {
  const { run, anchored } = d as unknown as Pick<RunProvenanceInput, "run" | "anchored">;
  return verifyRunProvenance({ run, key, ...(anchored ? { anchored } : {}) });
};

beforeAll(async () => {
  harness = await createProvenanceHarness();
  await harness.run("First run, so that the ledger has history.");
  const id = await harness.run("Why is the sky blue?");
  await harness.run("A later run, so that consistency spans growth.");
  honest = await harness.bundle(id);
  doc = JSON.parse(JSON.stringify({ run: honest.run, anchored: honest.anchored })) as Json;
});
afterAll(() => harness.close());

describe("client/verify.ts on an honest run", () => {
  it("passes every check", () => {
    const checks = verify(doc);
    expect(failing(checks)).toStrictEqual([]);
    expect(checks.map((c) => c.name)).toContain("ledger consistency 2 → 3");
  });
});

describe("tamper suite", () => {
  it("detects a change of any value the client receives", () => {
    const paths = leaves(doc).filter((p) => !UNVERIFIED.some((re) => re.test(name(p))));
    expect(paths.length).toBeGreaterThan(200);
    const undetected = paths.filter((p) => failing(verify(changed(doc, p, mutate))).length === 0).map(name);
    expect(undetected).toStrictEqual([]);
  });

  it("detects a dropped, added or reordered element of any list", () => {
    const lists = arrays(doc);
    const undetected: string[] = [];
    for (const p of lists) {
      const list = p.reduce<Json>((v, k) => (v as Record<string | number, Json>)[k] ?? null, doc) as Json[];
      const variants: [string, Json[]][] = [["dropped", list.slice(1)]];
      if (list.length > 0) variants.push(["duplicated", [...list, list[0]!]]);
      if (list.length > 1 && !UNORDERED.some((re) => re.test(name(p)))) {
        variants.push(["reordered", [list[1]!, list[0]!, ...list.slice(2)]]);
      }
      for (const [how, value] of variants) {
        if (JSON.stringify(value) === JSON.stringify(list)) continue;
        if (failing(verify(changed(doc, p, () => value))).length === 0) undetected.push(`${name(p)} ${how}`);
      }
    }
    expect(lists.length).toBeGreaterThan(20);
    expect(undetected).toStrictEqual([]);
  });

  const cases: [string, Path, (old: Json) => Json, RegExp][] = [
    [
      "a result's response",
      ["run", "agents", 1, "result", "response"],
      (v) => `${v} (edited)`,
      /leaf recomputes/,
    ],
    [
      "a debate round's claim",
      ["run", "agents", 2, "result", "debate", "rounds", 0, "claim"],
      mutate,
      /leaf recomputes/,
    ],
    ["the leaf order", ["run", "leafOrder"], (v) => [...(v as Json[])].reverse(), /leaf order/],
    [
      "a transcript response",
      ["run", "agents", 0, "transcript", 0, "response", "content"],
      mutate,
      /transcript/,
    ],
    ["the run's trace root", ["run", "traceRoot"], () => "0".repeat(64), /run traceRoot/],
    [
      "the checkpoint note",
      ["run", "ledgerProof", "checkpoint", "note"],
      (v) => String(v).replace("\n3\n", "\n4\n"),
      /signature/,
    ],
    [
      "an anchor receipt's root",
      ["run", "anchorReceipts", 0, "entry", "rootHash"],
      () => "f".repeat(64),
      /recomputes to its recordHash/,
    ],
    [
      "the server's chain verdict",
      ["run", "anchorReceipts", 0, "verification", "valid"],
      () => false,
      /re-verification/,
    ],
    [
      "a consistency proof hash",
      ["anchored", "ledgerConsistencyProof", "proof", 0],
      () => "e".repeat(64),
      /consistency/,
    ],
  ];
  it.each(cases)("names the failing check when %s changes", (_what, path, change, expected) => {
    const fails = failing(verify(changed(doc, path, change)));
    expect(
      fails.some((f) => expected.test(f)),
      fails.join("\n"),
    ).toBe(true);
  });

  it("rejects checkpoints under any other key, even with the same name", () => {
    const impostor = {
      keyName: `${HARNESS_ORIGIN}/tenant-a`,
      publicKey: ed25519FromSeed(new Uint8Array(32)).publicKey,
    };
    expect(failing(verify(doc, impostor))).toEqual(
      expect.arrayContaining([expect.stringMatching(/signature/)]),
    );
  });
});
