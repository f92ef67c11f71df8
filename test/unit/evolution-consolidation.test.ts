import { describe, expect, it } from "vitest";
import { gradedScript } from "../fakes/graded-llm.js";
import { ScriptedLlm } from "../fakes/scripted-llm.js";
import { createEvolvingOrchestrator } from "../support/evolution.js";

const A = "tenant-a";
const B = "tenant-b";

describe("consolidation", () => {
  const RULE = "High exploration aids discovery";
  const ruleReply = JSON.stringify({ rules: [{ rule: RULE, traits: ["exploration"], confidence: 0.9 }] });

  it("feeds a rule learned in one run into the system prompts of later agents", async () => {
    const llm = new ScriptedLlm(gradedScript({ CONSOLIDATION: ruleReply }));
    const t = await createEvolvingOrchestrator(llm, {
      evolution: { consolidationTrigger: 3, consolidationBatch: 3 },
    });
    const first = await t.run(A, { query: "q1", evolution: "SELF_CORRECTING", seed: 1 });
    expect(llm.callsOf("CONSOLIDATION")).toHaveLength(1);
    expect(
      llm.requests.filter((r) => r.tag.runId === first.run.id).every((r) => !r.system.includes(RULE)),
    ).toBe(true);
    const second = await t.run(A, { query: "q2", evolution: "OFF" });
    const prompts = llm.requests.filter((r) => r.tag.runId === second.run.id && r.tag.kind !== "CHALLENGE");
    expect(prompts.length).toBeGreaterThan(0);
    for (const r of prompts) expect(r.system).toContain(`- ${RULE} (confidence 0.90)`);
    // Rules are tenant-scoped: another tenant's agents are not guided by them.
    const other = await t.run(B, { query: "q", evolution: "OFF" });
    expect(
      llm.requests.filter((r) => r.tag.runId === other.run.id).some((r) => r.system.includes(RULE)),
    ).toBe(false);
    await t.close();
  });

  it("removes nothing when the answer cannot be parsed, and waits before trying again", async () => {
    const llm = new ScriptedLlm(gradedScript({ CONSOLIDATION: "Here are some rules: be careful." }));
    const warnings: string[] = [];
    const t = await createEvolvingOrchestrator(llm, {
      evolution: { consolidationTrigger: 3, consolidationBatch: 3, consolidationRetryRuns: 2 },
      warnings,
    });
    await t.run(A, { query: "q1", evolution: "SELF_CORRECTING", seed: 1 });
    const calls = llm.callsOf("CONSOLIDATION");
    expect(calls).toHaveLength(2);
    expect(calls[1]?.messages.at(-1)?.content).toMatch(/could not be used: not valid JSON/);
    expect(await t.evolutionStore.experiments.listAll(A)).toHaveLength(3);
    expect(await t.evolution.service.memorySnapshot(A)).toHaveLength(3);
    expect((await t.evolutionStore.rules.list(A, { first: 5 })).items).toEqual([]);
    expect(warnings).toEqual(["Consolidation failed; no experiment was removed."]);
    for (const q of ["q2", "q3"]) await t.run(A, { query: q, evolution: "SELF_CORRECTING", seed: 2 });
    expect(llm.callsOf("CONSOLIDATION")).toHaveLength(2);
    await t.run(A, { query: "q4", evolution: "SELF_CORRECTING", seed: 3 });
    expect(llm.callsOf("CONSOLIDATION")).toHaveLength(4);
    expect(await t.evolutionStore.experiments.listAll(A)).toHaveLength(12);
    await t.close();
  });

  it("at 70 consolidates exactly the 50 oldest and removes only those (the seed's 75-run test)", async () => {
    const llm = new ScriptedLlm(gradedScript({ CONSOLIDATION: ruleReply }));
    const t = await createEvolvingOrchestrator(llm);
    const ids = async () => (await t.evolution.service.memorySnapshot(A)).map((e) => e.id);
    for (let i = 1; i <= 23; i++) await t.run(A, { query: `q${i}`, evolution: "SELF_CORRECTING", seed: i });
    const before = await ids();
    expect(before).toHaveLength(69);
    expect(llm.callsOf("CONSOLIDATION")).toHaveLength(0);
    const run24 = await t.run(A, { query: "q24", evolution: "SELF_CORRECTING", seed: 24 });
    const added = (await t.evolutionStore.experiments.listAll(A))
      .filter((e) => e.runId === run24.run.id)
      .map((e) => e.id);
    const consolidated = llm.callsOf("CONSOLIDATION");
    expect(consolidated).toHaveLength(1);
    expect(consolidated[0]?.tag).toMatchObject({ tenantId: A, runId: run24.run.id, kind: "CONSOLIDATION" });
    expect(consolidated[0]?.messages[0]?.content.match(/^- (ROOT|RESEARCHER|CRITIC) \|/gm)).toHaveLength(50);
    const expected = [...before, ...added].slice(50);
    expect(await ids()).toEqual(expected);
    expect((await t.evolutionStore.experiments.listAll(A)).map((e) => e.id)).toEqual(expected);

    for (let i = 25; i <= 75; i++) await t.run(A, { query: `q${i}`, evolution: "SELF_CORRECTING", seed: i });
    // 3 experiments a run: consolidations at runs 24, 40, 57 and 74; the rule is stored once.
    expect(llm.callsOf("CONSOLIDATION")).toHaveLength(4);
    const rules = (await t.evolutionStore.rules.list(A, { first: 10 })).items;
    expect(rules.map((r) => [r.description, r.traits, r.sourceExperimentCount])).toEqual([
      [RULE, ["exploration"], 50],
    ]);
    expect(await ids()).toHaveLength(75 * 3 - 4 * 50);
    await t.close();
  }, 60_000);
});
