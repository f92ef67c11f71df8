import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProvenanceRunFieldsFragment } from "../../client/generated/graphql.js";
import { agentLeafInputOf, type RunProvenanceInput, verifyRunProvenance } from "../../client/verify.js";
import { agentLeafInput, verifyRun } from "../../ui/src/verify.js";
import { createProvenanceHarness, type ProvenanceHarness } from "../support/provenance.js";

/** The web view's in-browser verifier (ui/src/verify.ts), run here on what the API returns for a real run. */
describe("in-browser run verifier", () => {
  let h: ProvenanceHarness;
  let bundle: RunProvenanceInput;
  let run: ProvenanceRunFieldsFragment;

  beforeAll(async () => {
    h = await createProvenanceHarness();
    const id = await h.run("Is the browser's verdict the same as the SDK's?");
    bundle = await h.bundle(id);
    run = bundle.run;
  });
  afterAll(() => h?.close());

  const clone = (): ProvenanceRunFieldsFragment => structuredClone(run) as ProvenanceRunFieldsFragment;
  const failing = (r: ProvenanceRunFieldsFragment) =>
    verifyRun(r)
      .checks.filter((c) => !c.ok)
      .map((c) => `${c.kind}:${c.agentId ?? "run"}`);

  it("passes every check of an untouched run, as the SDK's verifier does", () => {
    const result = verifyRun(run);
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.inclusionProofs).toEqual({ passed: run.leafOrder.length, total: run.leafOrder.length });
    expect(result.recomputedRoot).toBe(run.merkleRoot);
    expect(result.checks.filter((c) => c.kind === "inclusion")).toHaveLength(run.leafOrder.length);
    expect(result.checks.some((c) => c.kind === "ledger")).toBe(true);
    expect(result.checks.some((c) => c.kind === "anchor")).toBe(true);
    expect(verifyRunProvenance(bundle).filter((c) => !c.ok)).toEqual([]);
  });

  it("hashes exactly the leaf fields the SDK hashes", () => {
    // One function: the web view imports client/proofs.ts's.
    expect(agentLeafInput).toBe(agentLeafInputOf);
    for (const agent of run.agents) {
      expect(agentLeafInput(run.id, agent)).toEqual(agentLeafInputOf(run.id, agent));
    }
  });

  it("fails the leaf and the proof of an agent whose result was altered, and the root", () => {
    const r = clone();
    const agent = r.agents.find((a) => a.id === r.leafOrder[1]);
    if (!agent?.result) throw new Error("no result");
    agent.result.response += " (edited)";
    expect(failing(r).sort()).toEqual([`inclusion:${agent.id}`, `leaf:${agent.id}`, "root:run"].sort());
  });

  it("fails only the proof whose audit path was altered", () => {
    const r = clone();
    const agent = r.agents.find((a) => a.id === r.leafOrder[0]);
    const proof = agent?.result?.inclusionProof;
    if (!agent || !proof || proof.auditPath.length === 0) throw new Error("no proof");
    const first = proof.auditPath[0] ?? "";
    proof.auditPath[0] = `${first[0] === "0" ? "1" : "0"}${first.slice(1)}`;
    expect(failing(r)).toEqual([`inclusion:${agent.id}`]);
  });

  it("fails a transcript that no longer hashes to its trace root", () => {
    const r = clone();
    const agent = r.agents[0];
    const entry = agent?.transcript[0];
    if (!agent || !entry) throw new Error("no transcript");
    entry.response.content += "!";
    expect(failing(r)).toEqual([`trace:${agent.id}`]);
  });

  it("fails proofs against a root other than the run's", () => {
    const r = clone();
    r.merkleRoot = "0".repeat(64);
    const result = verifyRun(r);
    expect(result.ok).toBe(false);
    expect(result.inclusionProofs.passed).toBe(0);
  });
});
