import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verificationLines } from "../../client/cli/verify.js";
import {
  type ProvenanceRunFieldsFragment,
  RunProvenanceDocument,
  type RunProvenanceQuery,
  type RunVerification,
  verifyRun,
} from "../../client/index.js";
import { ed25519FromSeed } from "../../src/domain/ed25519.js";
import { noteVerifierKey } from "../../src/domain/signed-note.js";
import { createProvenanceHarness, type ProvenanceHarness } from "../support/provenance.js";

/**
 * The one verifier (client/verify.ts's `verifyRun`) that `vex verify` prints and the web view shows
 * (test/ui/web-ui.test.ts drives it in Chromium), run here on what the API returns for a real run, with
 * the response tampered on its way to the verifier. Each case names the checks that must fail: no more,
 * no fewer.
 */
describe("one verifier for the CLI and the web view", () => {
  let h: ProvenanceHarness;
  let id: string;

  beforeAll(async () => {
    h = await createProvenanceHarness();
    id = await h.run("Is the browser's verdict the same as the CLI's?");
  });
  afterAll(() => h?.close());

  /** A provenance source (what verifyRun reads from) whose RunProvenance answer `tamper` edits. */
  const source = (tamper: (data: RunProvenanceQuery) => void = () => {}) => ({
    request: (async (document: unknown, variables: unknown) => {
      const data = await h.gql(document as never, variables as never);
      if (document === RunProvenanceDocument) tamper(data as RunProvenanceQuery);
      return data;
    }) as never,
  });

  const run = (data: RunProvenanceQuery): ProvenanceRunFieldsFragment => {
    if (data.orchestration === null) throw new Error("no run");
    return data.orchestration;
  };
  const failing = (v: RunVerification) =>
    v.checks.filter((c) => !c.ok).map((c) => `${c.kind}:${c.agentId ?? "run"}`);
  /** What `vex verify` prints as failed: exactly the failing checks. */
  const printedFailures = (v: RunVerification) =>
    verificationLines(v, "in-process").filter((l) => l.startsWith("FAIL"));

  it("passes every check of an untouched run, signatures included", async () => {
    const v = await verifyRun(source(), id);
    expect(failing(v)).toEqual([]);
    expect(v.ok).toBe(true);
    const leaves = v.inclusionProofs.total;
    expect(leaves).toBeGreaterThan(1);
    expect(v.inclusionProofs).toEqual({ passed: leaves, total: leaves });
    for (const kind of [
      "leaf",
      "inclusion",
      "trace",
      "root",
      "ledger",
      "checkpoint",
      "anchor",
      "consistency",
    ]) {
      expect(v.checks.some((c) => c.kind === kind)).toBe(true);
    }
    expect(v.keyPinned).toBe(false);
    expect(verificationLines(v, "in-process").at(-1)).toBe(`all ${v.checks.length} checks passed`);
  });

  const cases: [string, (data: RunProvenanceQuery) => void, (data: RunProvenanceQuery) => string[]][] = [
    [
      "an altered result fails its leaf, its proof and the root",
      (d) => {
        const r = run(d);
        const agent = r.agents.find((a) => a.id === r.leafOrder[1]);
        if (!agent?.result) throw new Error("no result");
        agent.result.response += " (edited)";
      },
      (d) => [`leaf:${run(d).leafOrder[1]}`, `inclusion:${run(d).leafOrder[1]}`, "root:run"],
    ],
    [
      "an altered audit path fails only that proof",
      (d) => {
        const proof = run(d).agents.find((a) => a.id === run(d).leafOrder[0])?.result?.inclusionProof;
        const first = proof?.auditPath[0];
        if (!proof || first === undefined) throw new Error("no proof");
        proof.auditPath[0] = `${first[0] === "0" ? "1" : "0"}${first.slice(1)}`;
      },
      (d) => [`inclusion:${run(d).leafOrder[0]}`],
    ],
    [
      "an altered transcript fails only its trace root",
      (d) => {
        const entry = run(d).agents[0]?.transcript[0];
        if (!entry) throw new Error("no transcript");
        entry.response.content += "!";
      },
      (d) => [`trace:${run(d).agents[0]?.id}`],
    ],
    [
      "a checkpoint whose signed text was altered fails its signature and the ledger proof that rests on it",
      (d) => {
        const lp = run(d).ledgerProof;
        if (!lp) throw new Error("no ledger proof");
        lp.checkpoint.note = lp.checkpoint.note.replace(
          /\n(\d+)\n/,
          (_, n: string) => `\n${Number(n) + 1}\n`,
        );
      },
      () => ["checkpoint:run", "ledger:run"],
    ],
  ];

  for (const [name, tamper, expected] of cases) {
    it(name, async () => {
      const v = await verifyRun(source(tamper), id);
      const data = structuredClone(await h.gql(RunProvenanceDocument, { id }));
      expect(failing(v).sort()).toEqual(expected(data).sort());
      expect(v.ok).toBe(false);
      expect(printedFailures(v)).toHaveLength(expected(data).length);
      expect(verificationLines(v, "in-process").at(-1)).toMatch(/checks FAILED$/);
    });
  }

  it("refuses a malformed key from the server, and fails every signature under a pinned key that did not sign", async () => {
    const garbled = source((d) => {
      d.ledgerPublicKey.verifierKey = d.ledgerPublicKey.verifierKey.replace(/\+[0-9a-f]{8}\+/, "+00000000+");
    });
    await expect(verifyRun(garbled, id)).rejects.toMatchObject({ code: "BAD_USER_INPUT" });

    const honest = await verifyRun(source(), id);
    const keyName = honest.verifierKey.split("+")[0] ?? "";
    // Same name, another key: what an impostor with the server's data but not its seed would sign with.
    const impostor = noteVerifierKey(keyName, ed25519FromSeed(new Uint8Array(32).fill(9)).publicKey);
    const pinned = await verifyRun(source(), id, { verifierKey: impostor });
    expect(pinned.keyPinned).toBe(true);
    expect(pinned.ok).toBe(false);
    expect(failing(pinned)).toEqual(
      expect.arrayContaining(["checkpoint:run", "ledger:run", "consistency:run"]),
    );
    expect(verificationLines(pinned, "in-process")[1]).toBe(`key ${impostor} (pinned)`);
  });
});
