import { describe, expect, it } from "vitest";
import { createMemoryEventBus } from "../../src/adapters/bus/memory-bus.js";
import { createEmbeddedStore } from "../../src/adapters/embedded/embedded-store.js";
import { createInProcessRunQueue } from "../../src/adapters/queue/in-process-queue.js";
import { createMemoryRunSlots } from "../../src/adapters/rate-limit/memory-run-slots.js";
import { founderGenomes } from "../../src/orchestrator/founder-genomes.js";
import { createOrchestrator, type OrchestratorDeps } from "../../src/orchestrator/orchestrator.js";
import type { RunHandler, RunQueue } from "../../src/ports/run-queue.js";
import type { Store } from "../../src/ports/stores.js";
import { defaultScript, ScriptedLlm } from "../fakes/scripted-llm.js";
import { drain, sequentialIds, steppingClock } from "../support/orchestrator.js";

const orchestratorOn = (
  store: Store,
  llm: ScriptedLlm,
  instanceId: string,
  extra: Partial<OrchestratorDeps> = {},
) =>
  createOrchestrator({
    store,
    bus: createMemoryEventBus(),
    llm,
    clock: steppingClock(),
    ids: sequentialIds(instanceId),
    genomes: founderGenomes,
    drawSeed: () => 1,
    baseMaxTokens: 100,
    instanceId,
    queue: createInProcessRunQueue({ concurrency: 10 }),
    slots: createMemoryRunSlots(),
    ...extra,
  });

const hangingCritic = () =>
  new ScriptedLlm((req, turn) =>
    req.tag.role === "CRITIC" && req.tag.kind === "ANSWER" ? { hang: true } : defaultScript(req, turn),
  );

/** A run whose Researcher completed while its Critic hangs, on a process `a` that is then stopped. */
const strandRun = async (store: Store, stop: "shutdown" | "drop") => {
  const a = orchestratorOn(store, hangingCritic(), "a");
  await a.work();
  const run = await a.start("t", { query: "q" });
  const events = await a.events("t", run.id, 0);
  for await (const e of events) if (e.type === "AgentCompleted") break;
  await events.return(undefined);
  if (stop === "shutdown") await a.shutdown(0);
  return run;
};

/** Resumes the store's unfinished runs on a fresh process `b` and collects what follows `lastSeq`. */
const resumeOn = async (store: Store, runId: string) => {
  const llm = new ScriptedLlm();
  const b = orchestratorOn(store, llm, "b");
  const before = await store.agents.listByRun("t", runId);
  const lastSeq = await store.events.lastSeq("t", runId);
  await b.work();
  expect(await b.requeueUnfinished()).toBe(1);
  const events = await drain(await b.events("t", runId, lastSeq));
  return { llm, before, lastSeq, events };
};

describe("runs that survive their process (without Redis)", () => {
  it("hands a run back at shutdown: it stays RUNNING and the next start resumes it by itself", async () => {
    const store = await createEmbeddedStore({ dataDir: null });
    const run = await strandRun(store, "shutdown");
    expect(await store.runs.get("t", run.id)).toMatchObject({ status: "RUNNING", completedAt: null });

    const { llm, before, lastSeq, events } = await resumeOn(store, run.id);
    expect(events[0]).toMatchObject({
      seq: lastSeq + 1,
      type: "RunResumed",
      reason: "SERVER_RESTART",
      reusedAgentIds: [before[1]?.id],
    });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => lastSeq + 1 + i));
    expect(events.filter((e) => e.type === "RunFinished")).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ type: "RunFinished", status: "SUCCEEDED" });
    expect(llm.requests.some((r) => r.tag.role === "RESEARCHER")).toBe(false);
    const after = await store.agents.listByRun("t", run.id);
    expect(after.map((x) => x.id)).toEqual(before.map((x) => x.id));
    expect(after[1]).toEqual(before[1]);
    expect(await store.runs.get("t", run.id)).toMatchObject({
      status: "SUCCEEDED",
      ownerId: "b",
      leafOrder: after.map((x) => x.id),
    });
  });

  it("resumes a run whose process died (left RUNNING) without re-running finished agents", async () => {
    const store = await createEmbeddedStore({ dataDir: null });
    const run = await strandRun(store, "drop");
    const { llm, events } = await resumeOn(store, run.id);
    expect(events[0]).toMatchObject({ type: "RunResumed", reason: "SERVER_RESTART" });
    expect(events.at(-1)).toMatchObject({ type: "RunFinished", status: "SUCCEEDED" });
    expect(llm.callsOf("ANSWER").map((r) => r.tag.role)).toEqual(["CRITIC"]);
    expect(llm.requests.some((r) => r.tag.role === "RESEARCHER")).toBe(false);
  });

  it("resumes an INTERRUPTED run on request, saying so, and only the caller's", async () => {
    const store = await createEmbeddedStore({ dataDir: null });
    const run = await strandRun(store, "shutdown");
    await store.runs.update("t", run.id, { status: "INTERRUPTED" });
    const b = orchestratorOn(store, new ScriptedLlm(), "b");
    await b.work();
    await expect(b.resume("other", run.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
    const lastSeq = await store.events.lastSeq("t", run.id);
    expect(await b.resume("t", run.id)).toMatchObject({ status: "RUNNING", error: null });
    const events = await drain(await b.events("t", run.id, lastSeq));
    expect(events[0]).toMatchObject({ type: "RunResumed", reason: "REQUESTED" });
    expect(events.at(-1)).toMatchObject({ type: "RunFinished", status: "SUCCEEDED" });
    await expect(b.resume("t", run.id)).rejects.toMatchObject({ code: "BAD_USER_INPUT" });
  });

  it("ends FAILED with WORKER_LOST a run that lost its worker more often than allowed", async () => {
    const store = await createEmbeddedStore({ dataDir: null });
    const run = await strandRun(store, "drop");
    let handler: RunHandler | undefined;
    const queue: RunQueue = {
      ...createInProcessRunQueue({ concurrency: 1 }),
      work: async (h) => {
        handler = h;
      },
    };
    const llm = new ScriptedLlm();
    const b = orchestratorOn(store, llm, "b", { queue, maxWorkersLost: 2 });
    await b.work();
    const job = { runId: run.id, tenantId: "t", enqueuedAt: 0 };
    const outcome = await handler?.({
      job,
      redelivery: "WORKER_LOST",
      workersLost: 3,
      cancelled: new AbortController().signal,
    });
    expect(outcome).toBe("done");
    expect(await store.runs.get("t", run.id)).toMatchObject({
      status: "FAILED",
      error: { code: "WORKER_LOST" },
    });
    expect(llm.requests).toHaveLength(0);
    const log = await store.events.list("t", run.id, 0);
    expect(log.map((e) => e.seq)).toEqual(log.map((_, i) => i + 1));
    expect(log.at(-1)).toMatchObject({ type: "RunFinished", status: "FAILED" });
    const agents = await store.agents.listByRun("t", run.id);
    expect(agents.map((a) => a.state)).toEqual(["FAILED", "COMPLETED", "FAILED"]);
  });

  it("cancels a queued run before any worker takes it: it never runs", async () => {
    const store = await createEmbeddedStore({ dataDir: null });
    const llm = hangingCritic();
    const a = orchestratorOn(store, llm, "a", { queue: createInProcessRunQueue({ concurrency: 1 }) });
    await a.work();
    const first = await a.start("t", { query: "first" });
    const queued = await a.start("t", { query: "second" });
    const cancelled = await a.cancel("t", queued.id);
    expect(cancelled).toMatchObject({ status: "CANCELLED", error: { code: "CANCELLED" } });
    expect(llm.requests.every((r) => r.tag.runId === first.id)).toBe(true);
    const log = await store.events.list("t", queued.id, 0);
    expect(log).toMatchObject([{ seq: 1, type: "RunFinished", status: "CANCELLED" }]);
    expect(await a.cancel("t", first.id)).toMatchObject({ status: "CANCELLED" });
  });
});
