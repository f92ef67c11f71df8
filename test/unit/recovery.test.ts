import { describe, expect, it } from "vitest";
import { createMemoryEventBus } from "../../src/adapters/bus/memory-bus.js";
import { createEmbeddedStore } from "../../src/adapters/embedded/embedded-store.js";
import { founderGenomes } from "../../src/orchestrator/founder-genomes.js";
import { createOrchestrator, type OrchestratorDeps } from "../../src/orchestrator/orchestrator.js";
import type { Store } from "../../src/ports/stores.js";
import { defaultScript, ScriptedLlm } from "../fakes/scripted-llm.js";
import { drain, sequentialIds } from "../support/orchestrator.js";

const LEASE_MS = 1_000;

/** A clock the test moves by hand. */
const manualClock = () => {
  let t = Date.UTC(2026, 0, 1);
  return {
    now: () => new Date(t),
    advance: (ms: number) => {
      t += ms;
    },
  };
};

const orchestratorOn = (store: Store, llm: ScriptedLlm, clock: { now(): Date }, instanceId: string) => {
  const deps: OrchestratorDeps = {
    store,
    bus: createMemoryEventBus(),
    llm,
    clock,
    ids: sequentialIds(instanceId),
    genomes: founderGenomes,
    drawSeed: () => 1,
    baseMaxTokens: 100,
    instanceId,
    leaseMs: LEASE_MS,
  };
  return createOrchestrator(deps);
};

const hangingCritic = () =>
  new ScriptedLlm((req, turn) =>
    req.tag.role === "CRITIC" && req.tag.kind === "ANSWER" ? { hang: true } : defaultScript(req, turn),
  );

/** A run left RUNNING by a process that died: started on `a`, which is then simply dropped. */
const strandRun = async (store: Store, clock: ReturnType<typeof manualClock>) => {
  const a = orchestratorOn(store, hangingCritic(), clock, "a");
  const run = await a.start("t", { query: "q" });
  const events = await a.events("t", run.id, 0);
  for await (const e of events) if (e.type === "AgentCompleted") break;
  await events.return(undefined);
  return run;
};

describe("run leases and recovery", () => {
  it("interrupts a run whose owner stopped renewing, once, keeping its completed agents", async () => {
    const store = await createEmbeddedStore({ dataDir: null });
    const clock = manualClock();
    const run = await strandRun(store, clock);
    const b = orchestratorOn(store, new ScriptedLlm(), clock, "b");
    expect(await b.recover()).toBe(0);

    clock.advance(LEASE_MS + 1);
    expect(await b.recover()).toBe(1);
    expect(await orchestratorOn(store, new ScriptedLlm(), clock, "c").recover()).toBe(0);
    expect(await store.runs.get("t", run.id)).toMatchObject({
      status: "INTERRUPTED",
      error: { code: "INTERRUPTED" },
    });
    const agents = await store.agents.listByRun("t", run.id);
    expect(agents.map((x) => [x.role, x.state])).toEqual([
      ["ROOT", "INTERRUPTED"],
      ["RESEARCHER", "COMPLETED"],
      ["CRITIC", "INTERRUPTED"],
    ]);
    const log = await store.events.list("t", run.id, 0);
    expect(log.at(-1)).toMatchObject({ type: "RunFinished", status: "INTERRUPTED" });
    expect(log.map((e) => e.seq)).toEqual(log.map((_, i) => i + 1));
  });

  it("resumes an interrupted run without re-running finished agents, continuing the event log", async () => {
    const store = await createEmbeddedStore({ dataDir: null });
    const clock = manualClock();
    const run = await strandRun(store, clock);
    clock.advance(LEASE_MS + 1);
    const llm = new ScriptedLlm();
    const b = orchestratorOn(store, llm, clock, "b");
    await b.recover();
    const before = await store.agents.listByRun("t", run.id);
    const lastSeq = await store.events.lastSeq("t", run.id);

    const resumed = await b.resume("t", run.id);
    expect(resumed).toMatchObject({ status: "RUNNING", ownerId: "b", error: null });
    const events = await drain(await b.events("t", run.id, lastSeq));
    expect(events[0]).toMatchObject({
      seq: lastSeq + 1,
      type: "RunResumed",
      reusedAgentIds: [before[1]?.id],
    });
    expect(events.at(-1)).toMatchObject({ type: "RunFinished", status: "SUCCEEDED" });
    expect(llm.requests.some((r) => r.tag.role === "RESEARCHER")).toBe(false);
    expect(llm.callsOf("ANSWER").map((r) => r.tag.agentId)).toEqual([before[2]?.id]);

    const after = await store.agents.listByRun("t", run.id);
    expect(after.map((x) => x.id)).toEqual(before.map((x) => x.id));
    expect(after[1]).toEqual(before[1]);
    expect(after.every((x) => x.state === "COMPLETED")).toBe(true);
    expect(await store.runs.get("t", run.id)).toMatchObject({
      status: "SUCCEEDED",
      leafOrder: after.map((x) => x.id),
    });
  });

  it("resumes only INTERRUPTED runs of the caller's tenant", async () => {
    const store = await createEmbeddedStore({ dataDir: null });
    const clock = manualClock();
    const b = orchestratorOn(store, new ScriptedLlm(), clock, "b");
    const run = await b.start("t", { query: "q" });
    await drain(await b.events("t", run.id, 0));
    await expect(b.resume("t", run.id)).rejects.toMatchObject({ code: "BAD_USER_INPUT" });
    await expect(b.resume("other", run.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("renews the leases of its own runs so that recovery leaves them alone", async () => {
    const store = await createEmbeddedStore({ dataDir: null });
    const clock = manualClock();
    const a = orchestratorOn(store, hangingCritic(), clock, "a");
    const run = await a.start("t", { query: "q" });
    a.startMaintenance();
    clock.advance(LEASE_MS + 1);
    await new Promise((r) => setTimeout(r, LEASE_MS / 2));
    expect((await store.runs.get("t", run.id))?.heartbeatAt?.getTime()).toBe(clock.now().getTime());
    expect(await orchestratorOn(store, new ScriptedLlm(), clock, "b").recover()).toBe(0);
    await a.shutdown(0);
    expect(await store.runs.get("t", run.id)).toMatchObject({ status: "INTERRUPTED", ownerId: null });
  });
});
