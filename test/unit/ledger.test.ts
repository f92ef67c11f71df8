import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createEmbeddedProvenanceStore } from "../../src/adapters/embedded/provenance-store.js";
import type { AnchorReceipt } from "../../src/domain/anchor.js";
import { parseCheckpointText, type TreeHead } from "../../src/domain/checkpoint.js";
import { ed25519FromSeed } from "../../src/domain/ed25519.js";
import { AppError } from "../../src/domain/errors.js";
import type { RunEventBody } from "../../src/domain/events.js";
import { ledgerLeafHash } from "../../src/domain/ledger.js";
import {
  hashFromHex,
  merkleRootFromLeafHashes,
  toHex,
  verifyConsistency,
  verifyInclusion,
} from "../../src/domain/merkle.js";
import { openNote } from "../../src/domain/signed-note.js";
import type { RunHook } from "../../src/orchestrator/hooks.js";
import { createProvenanceHook, type ProvenanceDeps } from "../../src/orchestrator/provenance-hook.js";
import {
  createProvenanceService,
  type ProvenanceService,
} from "../../src/orchestrator/provenance-service.js";
import type { AnchorBackend } from "../../src/ports/anchor.js";
import { aFinishedRun } from "../fixtures/builders.js";
import { aReceipt } from "../fixtures/provenance-builders.js";
import { steppingClock } from "../support/orchestrator.js";

const A = "tenant-a";
const B = "tenant-b";
/** Ledger sizes the growth test walks through: enough for several perfect and imperfect trees. */
const GROWTH = 13;

/** An anchor backend that records what it was given and hands back self-consistent receipts. */
const recordingAnchor = (): AnchorBackend & { entries: AnchorReceipt["entry"][] } => {
  const entries: AnchorReceipt["entry"][] = [];
  return {
    name: "memory",
    entries,
    anchor: async (entry) => {
      entries.push(entry);
      return { ...aReceipt({ entry, seq: entries.length - 1 }), backend: "memory" };
    },
    verify: async () => ({ valid: true, reason: null }),
    close: async () => {},
  };
};

let deps: ProvenanceDeps;
let hook: RunHook;
let service: ProvenanceService;
let anchor: ReturnType<typeof recordingAnchor>;
let emitted: RunEventBody[];

beforeEach(async () => {
  anchor = recordingAnchor();
  emitted = [];
  deps = {
    provenance: await createEmbeddedProvenanceStore({ dataDir: null }),
    anchors: [anchor],
    signer: ed25519FromSeed(new Uint8Array(32).fill(1)),
    originPrefix: "vex.test/ledger",
    clock: steppingClock(),
  };
  hook = createProvenanceHook(deps);
  service = createProvenanceService({ ...deps, store: { runs: {} as never, agents: {} as never } });
});
afterEach(() => deps.provenance.close());

/** Records a finished run for `tenant` the way the orchestrator would, and returns it. */
const finish = async (tenantId = A) => {
  const run = aFinishedRun({ tenantId, merkleRoot: toHex(new Uint8Array(32).fill(emitted.length + 1)) });
  await hook.afterRun?.({
    run,
    agents: [],
    emit: async (body) => {
      emitted.push(body);
      return { ...body, runId: run.id, tenantId, seq: emitted.length, at: new Date() } as never;
    },
    signal: new AbortController().signal,
  });
  return run;
};

/** The tree head of the signed checkpoint at `size`, signature checked. */
const signedHead = async (tenantId: string, size: number): Promise<TreeHead> => {
  const checkpoint = await service.checkpoint(tenantId, size);
  const key = service.publicKey(tenantId);
  const opened = openNote(checkpoint?.note ?? "", { keyName: key.keyName, publicKey: deps.signer.publicKey });
  if (!opened.ok) throw new Error(opened.reason);
  const parsed = parseCheckpointText(opened.text);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.head;
};

/** Appends a run's entry the way another instance would, without this process's hook (no checkpoint). */
const appendElsewhere = async (tenantId = A) => {
  const run = aFinishedRun({ tenantId });
  const entry = {
    runId: run.id,
    merkleRoot: "ab".repeat(32),
    traceRoot: "cd".repeat(32),
    leafCount: 3,
    recordedAt: "2026-01-01T00:00:00.000Z",
  };
  await deps.provenance.ledger.append(tenantId, entry, toHex(ledgerLeafHash(entry)));
  return run;
};

describe("the ledger as it grows", () => {
  it("proves every old checkpoint consistent with every newer one, and every entry included in each", async () => {
    const runs = [];
    for (let i = 0; i < GROWTH; i++) runs.push(await finish());
    const heads = [];
    for (let n = 1; n <= GROWTH; n++) heads.push(await signedHead(A, n));
    expect(heads.map((h) => h.treeSize)).toStrictEqual(runs.map((_, i) => i + 1));

    for (let m = 1; m <= GROWTH; m++) {
      for (let n = m; n <= GROWTH; n++) {
        const p = await service.consistencyProof(A, m, n);
        const [oldHead, newHead] = [heads[m - 1]!, heads[n - 1]!];
        expect([p.firstRoot, p.secondRoot]).toStrictEqual([toHex(oldHead.rootHash), toHex(newHead.rootHash)]);
        const check = { oldSize: m, newSize: n, oldRoot: oldHead.rootHash, newRoot: newHead.rootHash };
        expect(verifyConsistency({ ...check, proof: p.proof.map(hashFromHex) }), `${m} → ${n}`).toBe(true);
        if (m < n) {
          // The same proof with the next checkpoint's root in place of the old one must fail.
          const wrong = { ...check, oldRoot: heads[m]!.rootHash };
          expect(verifyConsistency({ ...wrong, proof: p.proof.map(hashFromHex) })).toBe(false);
        }
      }
    }

    for (const [i, run] of runs.entries()) {
      for (const n of [i + 1, GROWTH]) {
        const proof = await service.ledgerProof(A, run.id, n);
        expect(proof?.leafIndex).toBe(i);
        expect(toHex(ledgerLeafHash(proof!.entry))).toBe(proof?.leafHash);
        expect(
          verifyInclusion({
            leafIndex: i,
            treeSize: n,
            leafHash: hashFromHex(proof!.leafHash),
            auditPath: proof!.auditPath.map(hashFromHex),
            root: heads[n - 1]!.rootHash,
          }),
        ).toBe(true);
      }
    }
  });

  it("anchors each run's own checkpoint and emits AnchorRecorded with the receipt", async () => {
    const first = await finish();
    const second = await finish();
    expect(anchor.entries.map((e) => [e.runId, e.treeSize])).toStrictEqual([
      [first.id, 1],
      [second.id, 2],
    ]);
    expect(emitted.map((e) => e.type)).toStrictEqual(["AnchorRecorded", "AnchorRecorded"]);
    expect(await service.receipts(A, second.id)).toHaveLength(1);
    expect(anchor.entries[1]?.origin).toBe("vex.test/ledger/tenant-a");
  });

  it("keeps one ledger per tenant, each its own log", async () => {
    await finish(A);
    await finish(A);
    const b = await finish(B);
    expect((await service.ledgerProof(B, b.id))?.leafIndex).toBe(0);
    expect((await signedHead(B, 1)).origin).toBe("vex.test/ledger/tenant-b");
    expect(await service.ledgerProof(A, b.id)).toBeNull();
    expect(service.publicKey(A).keyId).not.toBe(service.publicKey(B).keyId);
  });

  it("does not append a run twice", async () => {
    const run = aFinishedRun({ tenantId: A });
    const completion = {
      run,
      agents: [],
      emit: async () => ({}) as never,
      signal: new AbortController().signal,
    };
    await hook.afterRun?.(completion);
    await hook.afterRun?.(completion);
    expect(await deps.provenance.ledger.size(A)).toBe(1);
  });

  it("proves an entry whose checkpoint was never signed (a crash after the append) by signing it on demand", async () => {
    await finish();
    const orphan = await appendElsewhere();
    expect(await deps.provenance.checkpoints.get(A, 2)).toBeNull();
    const proof = await service.ledgerProof(A, orphan.id);
    expect(proof).toMatchObject({ leafIndex: 1, treeSize: 2, checkpoint: { treeSize: 2 } });
    expect((await signedHead(A, 2)).treeSize).toBe(2);
  });

  it("signs the same roots as a full recomputation when another instance appended in between", async () => {
    const fullRoot = async (size: number) =>
      toHex(merkleRootFromLeafHashes((await deps.provenance.ledger.leafHashes(A, size)).map(hashFromHex)));

    await finish();
    await finish();
    const unsigned = await appendElsewhere(); // index 2, its checkpoint never made
    await appendElsewhere(); // index 3
    await finish(); // index 4: this process's frontier catches up over 2 and 3
    expect((await deps.provenance.checkpoints.get(A, 5))?.rootHash).toBe(await fullRoot(5));
    expect((await signedHead(A, 5)).treeSize).toBe(5);

    // The unsigned entry's run is recorded again (say by recovery): its checkpoint is below the frontier.
    await hook.afterRun?.({
      run: unsigned,
      agents: [],
      emit: async () => ({}) as never,
      signal: new AbortController().signal,
    });
    expect(await deps.provenance.ledger.size(A)).toBe(5);
    expect((await deps.provenance.checkpoints.get(A, 3))?.rootHash).toBe(await fullRoot(3));
    await finish();
    expect((await deps.provenance.checkpoints.get(A, 6))?.rootHash).toBe(await fullRoot(6));
  });

  it("rejects impossible sizes with BAD_USER_INPUT", async () => {
    await finish();
    await finish();
    for (const [m, n] of [
      [2, 1],
      [0, 3],
      [-1, 1],
    ] as const) {
      await expect(service.consistencyProof(A, m, n)).rejects.toMatchObject({ code: "BAD_USER_INPUT" });
    }
    await expect(service.consistencyProof(A, 0, 2)).resolves.toMatchObject({ proof: [] });
    expect(await service.checkpoint(A, 3)).toBeNull();
    const run = aFinishedRun();
    await expect(service.ledgerProof(A, run.id)).resolves.toBeNull();
  });

  it("refuses to record a run without its roots", async () => {
    const run = aFinishedRun({ tenantId: A, traceRoot: null });
    const completion = {
      run,
      agents: [],
      emit: async () => ({}) as never,
      signal: new AbortController().signal,
    };
    await expect(hook.afterRun?.(completion)).rejects.toBeInstanceOf(AppError);
  });
});
