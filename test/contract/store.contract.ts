import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RunEvent } from "../../src/domain/events.js";
import type { Agent, Run } from "../../src/domain/run.js";
import type { Store } from "../../src/ports/stores.js";
import {
  aFinishedRun,
  anAgent,
  anAgentResult,
  anEvent,
  anId,
  aRun,
  aTranscriptEntry,
} from "../fixtures/builders.js";
import { expectAppError, readAll } from "../support/assertions.js";

/** How a contract run gets a fresh, empty store for each test and disposes of it. */
export interface StoreContractInit {
  readonly name: string;
  /** A new, empty store; called before every test. */
  create(): Promise<Store>;
  /** Disposes of a store made by `create` (drop its data, close it). @default store.close() */
  destroy?(store: Store): Promise<void>;
}

const TENANT_A = "tenant-a";
const TENANT_B = "tenant-b";

const ids = (items: readonly { id: string }[]): string[] => items.map((i) => i.id);
const at = (iso: string): Date => new Date(iso);

/** Cursors that no store may accept. */
const BAD_CURSORS = [
  "not a cursor!",
  Buffer.from("plain text", "utf8").toString("base64url"),
  Buffer.from(JSON.stringify({ id: "run-1" }), "utf8").toString("base64url"),
  Buffer.from(JSON.stringify({ t: "yesterday", id: "run-1" }), "utf8").toString("base64url"),
  Buffer.from(JSON.stringify({ t: 1, id: "" }), "utf8").toString("base64url"),
];

/**
 * The behaviour every `Store` adapter must have (docs/design.md, Semantics, Tenancy). Run it once per
 * adapter: `storeContract({ name: "mongo", create, destroy })`.
 */
export const storeContract = (init: StoreContractInit): void => {
  describe(`Store contract: ${init.name}`, () => {
    let store: Store;

    beforeEach(async () => {
      store = await init.create();
    });
    afterEach(async () => {
      if (init.destroy) await init.destroy(store);
      else await store.close();
    });

    it("answers ping", async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    describe("RunStore", () => {
      it("round-trips a new run with its nulls and dates", async () => {
        const run = aRun({ tenantId: TENANT_A });
        await store.runs.create(run);
        const got = await store.runs.get(TENANT_A, run.id);
        expect(got).toStrictEqual(run);
        expect(got?.createdAt).toBeInstanceOf(Date);
      });

      it("round-trips a finished run with every field set", async () => {
        const run = aFinishedRun({
          tenantId: TENANT_A,
          status: "FAILED",
          error: { code: "LLM_UNAVAILABLE", message: "The model did not answer." },
          config: {
            maxDepth: 3,
            agentsPerLevel: 3,
            maxDebateRounds: 1,
            consensus: "SUPER_MAJORITY",
            evolution: "SELF_CORRECTING",
            seed: 4_294_967_295,
          },
        });
        await store.runs.create(run);
        const got = await store.runs.get(TENANT_A, run.id);
        expect(got).toStrictEqual(run);
        expect(got?.startedAt).toBeInstanceOf(Date);
        expect(got?.completedAt?.getTime()).toBe(run.completedAt?.getTime());
      });

      it("returns null for an unknown id", async () => {
        expect(await store.runs.get(TENANT_A, "run-does-not-exist")).toBeNull();
      });

      it("transitions only from the given states, once, and only within the tenant", async () => {
        const heartbeatAt = new Date(Date.UTC(2026, 0, 2));
        const run = aRun({ status: "RUNNING", ownerId: "instance-1", heartbeatAt });
        await store.runs.create(run);
        const error = { code: "INTERRUPTED", message: "owner stopped" };
        expect(
          await store.runs.transition(TENANT_B, run.id, ["RUNNING"], { status: "INTERRUPTED" }),
        ).toBeNull();
        const moved = await store.runs.transition(TENANT_A, run.id, ["RUNNING", "PENDING"], {
          status: "INTERRUPTED",
          error,
        });
        expect(moved).toEqual({ ...run, status: "INTERRUPTED", error });
        expect(
          await store.runs.transition(TENANT_A, run.id, ["RUNNING"], { status: "SUCCEEDED" }),
        ).toBeNull();
        expect(await store.runs.get(TENANT_A, run.id)).toEqual(moved);
        expect(await store.runs.transition(TENANT_A, "run-does-not-exist", ["RUNNING"], {})).toBeNull();
      });

      it("rejects a second run with the same id with CONFLICT", async () => {
        const run = aRun();
        await store.runs.create(run);
        await expectAppError(store.runs.create({ ...run, query: "other" }), "CONFLICT");
        expect((await store.runs.get(run.tenantId, run.id))?.query).toBe(run.query);
      });

      it("applies a patch and leaves every other field as it was", async () => {
        const run = aRun({ tenantId: TENANT_A });
        await store.runs.create(run);
        const startedAt = at("2025-02-01T10:00:00.123Z");
        await store.runs.update(TENANT_A, run.id, { status: "RUNNING", startedAt, model: "m-1" });
        expect(await store.runs.get(TENANT_A, run.id)).toStrictEqual({
          ...run,
          status: "RUNNING",
          startedAt,
          model: "m-1",
        });

        const completedAt = at("2025-02-01T10:00:05.456Z");
        const patch = {
          status: "SUCCEEDED",
          response: "Done.",
          confidence: 0.75,
          merkleRoot: "aa".repeat(32),
          traceRoot: "bb".repeat(32),
          levelsProcessed: 2,
          leafOrder: ["a1", "a2", "a3"],
          tokensUsed: { promptTokens: 3, completionTokens: 4, totalTokens: 7 },
          error: null,
          completedAt,
        } as const;
        await store.runs.update(TENANT_A, run.id, patch);
        expect(await store.runs.get(TENANT_A, run.id)).toStrictEqual({
          ...run,
          startedAt,
          model: "m-1",
          ...patch,
        });
      });

      it("does not wipe fields whose patch value is undefined", async () => {
        const run = aFinishedRun({ tenantId: TENANT_A });
        await store.runs.create(run);
        await store.runs.update(TENANT_A, run.id, {
          status: "INTERRUPTED",
          response: undefined,
          model: undefined,
        });
        expect(await store.runs.get(TENANT_A, run.id)).toStrictEqual({ ...run, status: "INTERRUPTED" });
      });

      it("sets a field back to null", async () => {
        const run = aFinishedRun({ tenantId: TENANT_A, error: { code: "X", message: "y" } });
        await store.runs.create(run);
        await store.runs.update(TENANT_A, run.id, { error: null, completedAt: null });
        expect(await store.runs.get(TENANT_A, run.id)).toStrictEqual({
          ...run,
          error: null,
          completedAt: null,
        });
      });

      it("rejects an update of an unknown id with NOT_FOUND, the same message and details on every store", async () => {
        const error = await expectAppError(
          store.runs.update(TENANT_A, "run-nope", { status: "RUNNING" }),
          "NOT_FOUND",
        );
        expect(error.message).toBe("Run run-nope not found.");
        expect(error.details).toStrictEqual({ id: "run-nope" });
        await expectAppError(store.runs.update(TENANT_A, "run-nope", {}), "NOT_FOUND");
        const agentError = await expectAppError(store.agents.update(TENANT_A, "agent-nope", {}), "NOT_FOUND");
        expect(agentError.message).toBe("Agent agent-nope not found.");
        expect(agentError.details).toStrictEqual({ id: "agent-nope" });
      });

      it("rejects a page size that is not a non-negative integer with BAD_USER_INPUT", async () => {
        for (const first of [-1, 1.5, Number.NaN]) {
          const runsError = await expectAppError(store.runs.list(TENANT_A, { first }), "BAD_USER_INPUT");
          expect(runsError.details).toStrictEqual({ argument: "first" });
          await expectAppError(store.agents.list(TENANT_A, { first }), "BAD_USER_INPUT");
        }
        expect((await store.runs.list(TENANT_A, { first: 0 })).items).toStrictEqual([]);
      });

      it("treats another tenant's run exactly like an unknown id", async () => {
        const run = aRun({ tenantId: TENANT_A });
        await store.runs.create(run);
        expect(await store.runs.get(TENANT_B, run.id)).toBeNull();
        await expectAppError(store.runs.update(TENANT_B, run.id, { status: "CANCELLED" }), "NOT_FOUND");
        await expectAppError(store.runs.update(TENANT_B, run.id, {}), "NOT_FOUND");
        const page = await store.runs.list(TENANT_B, { first: 10 });
        expect(page).toStrictEqual({ items: [], hasNextPage: false, cursors: [] });
        expect(await store.runs.get(TENANT_A, run.id)).toStrictEqual(run);
      });

      it("lists newest first and pages through every run exactly once", async () => {
        const runs = Array.from({ length: 7 }, (_, i) =>
          aRun({ tenantId: TENANT_A, createdAt: new Date(Date.UTC(2025, 0, 1, 0, 0, i)) }),
        );
        for (const run of [runs[3], runs[0], runs[6], runs[1], runs[5], runs[2], runs[4]] as Run[]) {
          await store.runs.create(run);
        }
        const newestFirst = ids([...runs].reverse());
        const firstPage = await store.runs.list(TENANT_A, { first: 3 });
        expect(ids(firstPage.items)).toStrictEqual(newestFirst.slice(0, 3));
        expect(firstPage.hasNextPage).toBe(true);
        for (const size of [1, 2, 3, 7, 50]) {
          expect(ids(await readAll((p) => store.runs.list(TENANT_A, p), size))).toStrictEqual(newestFirst);
        }
        const all = await store.runs.list(TENANT_A, { first: 7 });
        expect(all.hasNextPage).toBe(false);
        const afterLast = await store.runs.list(TENANT_A, { first: 7, after: all.cursors.at(-1) });
        expect(afterLast).toStrictEqual({ items: [], hasNextPage: false, cursors: [] });
      });

      it("lists the runs created in a window [createdFrom, createdBefore), paged, with a stored usage summary", async () => {
        const runs = Array.from({ length: 5 }, (_, i) =>
          aRun({ id: `run-w-${i}`, tenantId: TENANT_A, createdAt: new Date(Date.UTC(2025, 6, 1, i)) }),
        );
        for (const run of runs) await store.runs.create(run);
        await store.runs.create(aRun({ tenantId: TENANT_B, createdAt: new Date(Date.UTC(2025, 6, 1, 2)) }));
        const usage = {
          total: { promptTokens: 3, completionTokens: 2, reasoningTokens: 0, totalTokens: 5 },
          byModel: [{ model: "m", promptTokens: 3, completionTokens: 2, reasoningTokens: 0, totalTokens: 5 }],
          byRole: [
            { role: "ROOT", promptTokens: 3, completionTokens: 2, reasoningTokens: 0, totalTokens: 5 },
          ],
        };
        await store.runs.update(TENANT_A, "run-w-2", { usage });
        const window = {
          createdFrom: new Date(Date.UTC(2025, 6, 1, 1)),
          createdBefore: new Date(Date.UTC(2025, 6, 1, 4)),
        };
        for (const size of [1, 2, 5]) {
          const listed = await readAll((p) => store.runs.list(TENANT_A, p, window), size);
          expect(ids(listed)).toStrictEqual(["run-w-3", "run-w-2", "run-w-1"]);
          expect(listed.find((r) => r.id === "run-w-2")?.usage).toStrictEqual(usage);
        }
        const open = await store.runs.list(
          TENANT_A,
          { first: 10 },
          { createdBefore: new Date(Date.UTC(2025, 6, 1, 1)) },
        );
        expect(ids(open.items)).toStrictEqual(["run-w-0"]);
        expect(
          ids(
            (
              await store.runs.list(
                TENANT_A,
                { first: 10 },
                { createdFrom: new Date(Date.UTC(2025, 6, 1, 4)) },
              )
            ).items,
          ),
        ).toStrictEqual(["run-w-4"]);
      });

      it("breaks createdAt ties by id, descending, across page boundaries", async () => {
        const createdAt = at("2025-03-03T03:03:03.003Z");
        const tied = ["run-t-b", "run-t-e", "run-t-a", "run-t-d", "run-t-c"].map((id) =>
          aRun({ id, tenantId: TENANT_A, createdAt }),
        );
        const older = aRun({ id: "run-t-z", tenantId: TENANT_A, createdAt: at("2025-03-03T03:03:03.002Z") });
        const newer = aRun({ id: "run-t-0", tenantId: TENANT_A, createdAt: at("2025-03-03T03:03:03.004Z") });
        for (const run of [...tied, older, newer]) await store.runs.create(run);
        const expected = ["run-t-0", "run-t-e", "run-t-d", "run-t-c", "run-t-b", "run-t-a", "run-t-z"];
        for (const size of [1, 2, 4]) {
          expect(ids(await readAll((p) => store.runs.list(TENANT_A, p), size))).toStrictEqual(expected);
        }
      });

      it("keeps cursors stable while runs are inserted between page reads", async () => {
        const base = Date.UTC(2025, 4, 1);
        const runs = Array.from({ length: 6 }, (_, i) =>
          aRun({ id: `run-s-${i}`, tenantId: TENANT_A, createdAt: new Date(base + i * 1000) }),
        );
        for (const run of runs) await store.runs.create(run);
        let inserted = 0;
        const seen = await readAll(
          (p) => store.runs.list(TENANT_A, p),
          2,
          async () => {
            // A newer run, the way live traffic arrives, must not show up in later pages; an older one
            // may, but neither may duplicate the original runs or push them out.
            inserted++;
            await store.runs.create(
              aRun({ tenantId: TENANT_A, createdAt: new Date(base + 60_000 + inserted) }),
            );
            await store.runs.create(
              aRun({ id: `run-s-9${inserted}`, tenantId: TENANT_A, createdAt: new Date(base) }),
            );
          },
        );
        const original = ids([...runs].reverse());
        expect(ids(seen).filter((id) => original.includes(id))).toStrictEqual(original);
        expect(new Set(ids(seen)).size).toBe(seen.length);
        expect(seen.some((r) => r.createdAt.getTime() > base + 60_000)).toBe(false);
      });

      it("filters by status, with pagination", async () => {
        const statuses = ["PENDING", "RUNNING", "SUCCEEDED", "RUNNING", "FAILED", "RUNNING"] as const;
        const runs = statuses.map((status, i) =>
          aRun({ tenantId: TENANT_A, status, createdAt: new Date(Date.UTC(2025, 5, 1, 0, i)) }),
        );
        for (const run of runs) await store.runs.create(run);
        await store.runs.create(aRun({ tenantId: TENANT_B, status: "RUNNING" }));
        const running = await readAll((p) => store.runs.list(TENANT_A, p, { status: "RUNNING" }), 2);
        expect(ids(running)).toStrictEqual(ids(runs.filter((r) => r.status === "RUNNING").reverse()));
        const cancelled = await store.runs.list(TENANT_A, { first: 5 }, { status: "CANCELLED" });
        expect(cancelled.items).toHaveLength(0);
        const unfiltered = await store.runs.list(TENANT_A, { first: 10 }, { status: undefined });
        expect(unfiltered.items).toHaveLength(runs.length);
      });

      it("lists only the caller's tenant", async () => {
        const a = [aRun({ tenantId: TENANT_A }), aRun({ tenantId: TENANT_A })];
        const b = [aRun({ tenantId: TENANT_B })];
        for (const run of [...a, ...b]) await store.runs.create(run);
        expect(ids(await readAll((p) => store.runs.list(TENANT_A, p), 1)).sort()).toStrictEqual(
          ids(a).sort(),
        );
        expect(ids(await readAll((p) => store.runs.list(TENANT_B, p), 1))).toStrictEqual(ids(b));
        // A cursor from tenant A's listing reveals nothing of A's runs to tenant B.
        const pageA = await store.runs.list(TENANT_A, { first: 1 });
        const pageB = await store.runs.list(TENANT_B, { first: 10, after: pageA.cursors[0] });
        expect(pageB.items.every((r) => r.tenantId === TENANT_B)).toBe(true);
      });

      it("returns full runs from list", async () => {
        const run = aFinishedRun({ tenantId: TENANT_A });
        await store.runs.create(run);
        expect((await store.runs.list(TENANT_A, { first: 1 })).items).toStrictEqual([run]);
      });

      it("rejects a malformed cursor with BAD_USER_INPUT", async () => {
        await store.runs.create(aRun({ tenantId: TENANT_A }));
        for (const after of BAD_CURSORS) {
          await expectAppError(store.runs.list(TENANT_A, { first: 5, after }), "BAD_USER_INPUT");
        }
      });

      it("finds runs by status across tenants", async () => {
        const running = [
          aRun({ tenantId: TENANT_A, status: "RUNNING" }),
          aRun({ tenantId: TENANT_B, status: "RUNNING" }),
        ];
        const pending = aRun({ tenantId: TENANT_B, status: "PENDING" });
        const done = [
          aFinishedRun({ tenantId: TENANT_A }),
          aRun({ tenantId: TENANT_B, status: "CANCELLED" }),
        ];
        for (const run of [...running, pending, ...done]) await store.runs.create(run);
        const found = await store.runs.findByStatus(["PENDING", "RUNNING"]);
        expect(ids(found).sort()).toStrictEqual(ids([...running, pending]).sort());
        expect(found.find((r) => r.id === pending.id)).toStrictEqual(pending);
        expect(await store.runs.findByStatus([])).toStrictEqual([]);
        expect(await store.runs.findByStatus(["INTERRUPTED"])).toStrictEqual([]);
      });
    });

    describe("AgentStore", () => {
      it("round-trips a new agent with its nulls, genome and dates", async () => {
        const agent = anAgent({ tenantId: TENANT_A, parentId: "agent-root", depth: 1 });
        await store.agents.create(agent);
        const got = await store.agents.get(TENANT_A, agent.id);
        expect(got).toStrictEqual(agent);
        expect(got?.createdAt).toBeInstanceOf(Date);
      });

      it("round-trips a completed agent with its result and debate", async () => {
        const agent = anAgent({
          tenantId: TENANT_A,
          role: "ROOT",
          depth: 0,
          ordinal: 0,
          state: "COMPLETED",
          fitness: 0.6875,
          result: anAgentResult(),
          transcript: [
            aTranscriptEntry(),
            aTranscriptEntry({ index: 1, kind: "challenge", round: 1 }),
            aTranscriptEntry({ index: 2, kind: "rebuttal", round: 1 }),
          ],
          completedAt: at("2025-01-02T00:00:00.999Z"),
        });
        await store.agents.create(agent);
        expect(await store.agents.get(TENANT_A, agent.id)).toStrictEqual(agent);
      });

      it("returns null for an unknown id and rejects a duplicate id with CONFLICT", async () => {
        expect(await store.agents.get(TENANT_A, "agent-nope")).toBeNull();
        const agent = anAgent();
        await store.agents.create(agent);
        await expectAppError(store.agents.create(agent), "CONFLICT");
      });

      it("applies a patch with a nested result and leaves other fields as they were", async () => {
        const agent = anAgent({ tenantId: TENANT_A });
        await store.agents.create(agent);
        await store.agents.update(TENANT_A, agent.id, { state: "DEBATING" });
        expect(await store.agents.get(TENANT_A, agent.id)).toStrictEqual({ ...agent, state: "DEBATING" });
        const patch = {
          state: "COMPLETED",
          fitness: 0.5,
          transcript: [aTranscriptEntry(), aTranscriptEntry({ index: 1, kind: "challenge", round: 1 })],
          result: anAgentResult({ traceRoot: null, verified: false }),
          completedAt: at("2025-01-03T00:00:00.000Z"),
        } as const;
        await store.agents.update(TENANT_A, agent.id, { ...patch, error: undefined });
        expect(await store.agents.get(TENANT_A, agent.id)).toStrictEqual({ ...agent, ...patch });
        await store.agents.update(TENANT_A, agent.id, {
          state: "FAILED",
          error: { code: "LLM_TIMEOUT", message: "slow" },
        });
        expect((await store.agents.get(TENANT_A, agent.id))?.error).toStrictEqual({
          code: "LLM_TIMEOUT",
          message: "slow",
        });
      });

      it("treats another tenant's agent exactly like an unknown id", async () => {
        const agent = anAgent({ tenantId: TENANT_A, runId: "run-shared" });
        await store.agents.create(agent);
        expect(await store.agents.get(TENANT_B, agent.id)).toBeNull();
        await expectAppError(store.agents.update(TENANT_B, agent.id, { state: "FAILED" }), "NOT_FOUND");
        await expectAppError(store.agents.update(TENANT_A, "agent-nope", { state: "FAILED" }), "NOT_FOUND");
        expect(await store.agents.getMany(TENANT_B, [agent.id])).toStrictEqual([]);
        expect(await store.agents.listByRun(TENANT_B, "run-shared")).toStrictEqual([]);
        expect((await store.agents.list(TENANT_B, { first: 10 })).items).toStrictEqual([]);
        expect(
          (await store.agents.list(TENANT_B, { first: 10 }, { runId: "run-shared" })).items,
        ).toStrictEqual([]);
        expect(await store.agents.get(TENANT_A, agent.id)).toStrictEqual(agent);
      });

      it("gets many agents at once; missing and foreign ids are absent", async () => {
        const mine = [
          anAgent({ tenantId: TENANT_A }),
          anAgent({ tenantId: TENANT_A }),
          anAgent({ tenantId: TENANT_A }),
        ];
        const theirs = anAgent({ tenantId: TENANT_B });
        for (const agent of [...mine, theirs]) await store.agents.create(agent);
        const asked = [mine[2], mine[0]].map((a) => a?.id ?? "");
        const got = await store.agents.getMany(TENANT_A, [...asked, "agent-missing", theirs.id]);
        // In the order asked for, whatever order the store keeps them in.
        expect(ids(got)).toStrictEqual(asked);
        expect(got.find((a) => a.id === mine[0]?.id)).toStrictEqual(mine[0]);
        expect(await store.agents.getMany(TENANT_A, [])).toStrictEqual([]);
      });

      it("lists a run's agents in ordinal order", async () => {
        const runId = anId("run");
        const agents = [3, 0, 2, 1].map((ordinal) =>
          anAgent({ tenantId: TENANT_A, runId, ordinal, depth: ordinal === 0 ? 0 : 1 }),
        );
        for (const agent of agents) await store.agents.create(agent);
        await store.agents.create(anAgent({ tenantId: TENANT_A, runId: anId("run"), ordinal: 0 }));
        await store.agents.create(anAgent({ tenantId: TENANT_B, runId, ordinal: 4 }));
        const listed = await store.agents.listByRun(TENANT_A, runId);
        expect(listed.map((a) => a.ordinal)).toStrictEqual([0, 1, 2, 3]);
        expect(listed).toStrictEqual([...agents].sort((x, y) => x.ordinal - y.ordinal));
        expect(await store.agents.listByRun(TENANT_A, "run-empty")).toStrictEqual([]);
      });

      it("lists several runs' agents in one call, by run then ordinal, within the tenant", async () => {
        const [r1, r2] = ["run-a1", "run-a2"];
        const made = [
          anAgent({ tenantId: TENANT_A, runId: r2, ordinal: 1, depth: 1 }),
          anAgent({ tenantId: TENANT_A, runId: r1, ordinal: 1, depth: 1 }),
          anAgent({ tenantId: TENANT_A, runId: r2, ordinal: 0, depth: 0 }),
          anAgent({ tenantId: TENANT_A, runId: r1, ordinal: 0, depth: 0 }),
        ];
        for (const agent of made) await store.agents.create(agent);
        await store.agents.create(anAgent({ tenantId: TENANT_B, runId: r1, ordinal: 2 }));
        await store.agents.create(anAgent({ tenantId: TENANT_A, runId: "run-other", ordinal: 0 }));
        const listed = await store.agents.listByRuns(TENANT_A, [r2, r1, r1]);
        expect(listed.map((a) => [a.runId, a.ordinal])).toStrictEqual([
          [r1, 0],
          [r1, 1],
          [r2, 0],
          [r2, 1],
        ]);
        expect(await store.agents.listByRuns(TENANT_A, [])).toStrictEqual([]);
        expect(await store.agents.listByRuns(TENANT_B, [r2])).toStrictEqual([]);
      });

      it("lists newest first with role and run filters, and pages through them", async () => {
        const runX = anId("run");
        const runY = anId("run");
        const spec = [
          [runX, "ROOT"],
          [runX, "RESEARCHER"],
          [runX, "CRITIC"],
          [runY, "ROOT"],
          [runY, "RESEARCHER"],
          [runY, "RESEARCHER"],
          [runY, "CRITIC"],
        ] as const;
        const agents = spec.map(([runId, role], i) =>
          anAgent({ tenantId: TENANT_A, runId, role, createdAt: new Date(Date.UTC(2025, 6, 1, 0, 0, i)) }),
        );
        for (const agent of [...agents].reverse()) await store.agents.create(agent);
        await store.agents.create(anAgent({ tenantId: TENANT_B, runId: runY, role: "RESEARCHER" }));
        const newestFirst = (pick: (a: Agent) => boolean) => ids(agents.filter(pick).reverse());

        expect(ids(await readAll((p) => store.agents.list(TENANT_A, p), 3))).toStrictEqual(
          newestFirst(() => true),
        );
        expect(
          ids(await readAll((p) => store.agents.list(TENANT_A, p, { role: "RESEARCHER" }), 1)),
        ).toStrictEqual(newestFirst((a) => a.role === "RESEARCHER"));
        expect(ids(await readAll((p) => store.agents.list(TENANT_A, p, { runId: runX }), 2))).toStrictEqual(
          newestFirst((a) => a.runId === runX),
        );
        expect(
          ids(await readAll((p) => store.agents.list(TENANT_A, p, { runId: runY, role: "RESEARCHER" }), 1)),
        ).toStrictEqual(newestFirst((a) => a.runId === runY && a.role === "RESEARCHER"));
        const firstPage = await store.agents.list(TENANT_A, { first: 2 });
        expect(firstPage.items).toStrictEqual([agents[6], agents[5]]);
      });

      it("keeps agent cursors stable while agents are inserted between page reads", async () => {
        const base = Date.UTC(2025, 7, 1);
        const agents = Array.from({ length: 5 }, (_, i) =>
          anAgent({ tenantId: TENANT_A, createdAt: new Date(base + i * 1000) }),
        );
        for (const agent of agents) await store.agents.create(agent);
        const seen = await readAll(
          (p) => store.agents.list(TENANT_A, p),
          2,
          async (i) => {
            await store.agents.create(
              anAgent({ tenantId: TENANT_A, createdAt: new Date(base + 3_600_000 + i) }),
            );
          },
        );
        expect(ids(seen)).toStrictEqual(ids([...agents].reverse()));
      });

      it("rejects a malformed cursor with BAD_USER_INPUT", async () => {
        for (const after of BAD_CURSORS) {
          await expectAppError(store.agents.list(TENANT_A, { first: 5, after }), "BAD_USER_INPUT");
        }
      });
    });

    describe("EventStore", () => {
      const runEvents = (runId: string, tenantId = TENANT_A): RunEvent[] => {
        const agent = anAgent({ tenantId, runId, ordinal: 0, role: "ROOT", depth: 0 });
        const result = anAgentResult();
        const completed = { ...agent, state: "COMPLETED", result, fitness: result.confidence } as const;
        const debate = result.debate.rounds[0];
        if (debate === undefined) throw new Error("fixture debate has no rounds");
        return [
          anEvent({ runId, tenantId, seq: 1, body: { type: "RunStarted", query: "Why?" } }),
          anEvent({ runId, tenantId, seq: 2, body: { type: "AgentStarted", agentId: agent.id } }),
          anEvent({
            runId,
            tenantId,
            seq: 3,
            body: { type: "DebateRoundCompleted", agentId: agent.id, round: debate },
          }),
          anEvent({ runId, tenantId, seq: 4, body: { type: "AgentCompleted", agentId: completed.id } }),
          anEvent({
            runId,
            tenantId,
            seq: 5,
            body: {
              type: "AgentFailed",
              agent: { ...agent, id: "agent-other", state: "FAILED" },
              error: { code: "LLM_TIMEOUT", message: "timed out" },
            },
          }),
          anEvent({
            runId,
            tenantId,
            seq: 6,
            body: {
              type: "RunFinished",
              status: "SUCCEEDED",
              response: "Because.",
              confidence: 0.6875,
              merkleRoot: "12".repeat(32),
              traceRoot: null,
              error: null,
            },
          }),
        ];
      };

      it("lists appended events in seq order, whatever the append order, with every field intact", async () => {
        const runId = anId("run");
        const events = runEvents(runId);
        for (const i of [2, 0, 5, 1, 4, 3]) await store.events.append([events[i] as RunEvent]);
        const listed = await store.events.list(TENANT_A, runId, 0);
        expect(listed).toStrictEqual(events);
        const failed = listed[4];
        expect(failed?.type === "AgentFailed" && failed.agent.createdAt instanceof Date).toBe(true);
        expect(listed[0]?.at).toBeInstanceOf(Date);
      });

      it("lists only events after afterSeq, up to limit", async () => {
        const runId = anId("run");
        const events = runEvents(runId);
        for (const event of events) await store.events.append([event]);
        expect(await store.events.list(TENANT_A, runId, 3)).toStrictEqual(events.slice(3));
        expect(await store.events.list(TENANT_A, runId, 1, 2)).toStrictEqual(events.slice(1, 3));
        expect(await store.events.list(TENANT_A, runId, 6)).toStrictEqual([]);
        expect(await store.events.list(TENANT_A, runId, 100)).toStrictEqual([]);
        expect(await store.events.list(TENANT_A, "run-unknown", 0)).toStrictEqual([]);
      });

      it("reports the last seq, 0 for a run without events", async () => {
        const runId = anId("run");
        expect(await store.events.lastSeq(TENANT_A, runId)).toBe(0);
        const events = runEvents(runId);
        for (const event of events.slice(0, 4)) await store.events.append([event]);
        expect(await store.events.lastSeq(TENANT_A, runId)).toBe(4);
        await store.events.append([events[5] as RunEvent]);
        expect(await store.events.lastSeq(TENANT_A, runId)).toBe(6);
      });

      it("rejects a second event with the same (runId, seq) with CONFLICT and keeps the first", async () => {
        const runId = anId("run");
        const first = anEvent({ runId, seq: 1, body: { type: "RunStarted", query: "first" } });
        await store.events.append([first]);
        await expectAppError(
          store.events.append([anEvent({ runId, seq: 1, body: { type: "RunStarted", query: "second" } })]),
          "CONFLICT",
        );
        expect(await store.events.list(TENANT_A, runId, 0)).toStrictEqual([first]);
      });

      it("appends a batch in one call, and refuses a batch that repeats a stored seq with CONFLICT", async () => {
        const runId = anId("run");
        const events = runEvents(runId);
        await store.events.append(events.slice(0, 3));
        await store.events.append([]);
        expect(await store.events.list(TENANT_A, runId, 0)).toStrictEqual(events.slice(0, 3));
        const conflict = await expectAppError(store.events.append(events.slice(2)), "CONFLICT");
        expect(conflict.details).toStrictEqual({ runId, seq: 3 });
        expect((await store.events.list(TENANT_A, runId, 0)).slice(0, 3)).toStrictEqual(events.slice(0, 3));
        expect(await store.events.lastSeq(TENANT_A, runId)).toBe(3);
        await store.events.append(events.slice(3));
        expect(await store.events.list(TENANT_A, runId, 0)).toStrictEqual(events);
      });

      it("keeps runs' logs apart: the same seq in another run is fine", async () => {
        const [x, y] = [anId("run"), anId("run")];
        await store.events.append([anEvent({ runId: x, seq: 1 })]);
        await store.events.append([anEvent({ runId: y, seq: 1 })]);
        await store.events.append([anEvent({ runId: y, seq: 2 })]);
        expect((await store.events.list(TENANT_A, x, 0)).map((e) => e.seq)).toStrictEqual([1]);
        expect((await store.events.list(TENANT_A, y, 0)).map((e) => e.seq)).toStrictEqual([1, 2]);
        expect(await store.events.lastSeq(TENANT_A, x)).toBe(1);
      });

      it("treats another tenant's run log exactly like an unknown run", async () => {
        const runId = anId("run");
        for (const event of runEvents(runId, TENANT_A)) await store.events.append([event]);
        expect(await store.events.list(TENANT_B, runId, 0)).toStrictEqual([]);
        expect(await store.events.lastSeq(TENANT_B, runId)).toBe(0);
      });

      it("stores the changes events announce, in order, with them", async () => {
        const run = aRun({ tenantId: TENANT_A, status: "RUNNING" });
        await store.runs.create(run);
        const agent = anAgent({ tenantId: TENANT_A, runId: run.id, state: "RUNNING" });
        const started = anEvent({ runId: run.id, seq: 1, body: { type: "AgentStarted", agentId: agent.id } });
        await store.events.append([started], [{ kind: "createAgent", agent }]);
        expect(await store.agents.get(TENANT_A, agent.id)).toStrictEqual(agent);

        const result = anAgentResult();
        const completed = anEvent({
          runId: run.id,
          seq: 2,
          body: { type: "AgentCompleted", agentId: agent.id },
        });
        const finished = anEvent({
          runId: run.id,
          seq: 3,
          body: {
            type: "RunFinished",
            status: "SUCCEEDED",
            response: result.response,
            confidence: result.confidence,
            merkleRoot: null,
            traceRoot: null,
            error: null,
          },
        });
        const completedAt = at("2025-03-01T00:00:00.000Z");
        await store.events.append(
          [completed, finished],
          [
            { kind: "updateAgent", tenantId: TENANT_A, id: agent.id, patch: { state: "DEBATING" } },
            { kind: "updateAgent", tenantId: TENANT_A, id: agent.id, patch: { state: "COMPLETED", result } },
            {
              kind: "updateRun",
              tenantId: TENANT_A,
              id: run.id,
              patch: { status: "SUCCEEDED", response: result.response, completedAt },
            },
          ],
        );
        expect(await store.agents.get(TENANT_A, agent.id)).toStrictEqual({
          ...agent,
          state: "COMPLETED",
          result,
        });
        expect(await store.runs.get(TENANT_A, run.id)).toStrictEqual({
          ...run,
          status: "SUCCEEDED",
          response: result.response,
          completedAt,
        });
        expect(await store.events.list(TENANT_A, run.id, 0)).toStrictEqual([started, completed, finished]);
      });

      it("stores no event when a change fails: NOT_FOUND for a missing record, CONFLICT for a stored agent", async () => {
        const runId = anId("run");
        const agent = anAgent({ tenantId: TENANT_A, runId });
        await store.agents.create(agent);
        const event = anEvent({ runId, seq: 1 });
        await expectAppError(
          store.events.append([event], [{ kind: "createAgent", agent: { ...agent, name: "again" } }]),
          "CONFLICT",
        );
        await expectAppError(
          store.events.append(
            [event],
            [{ kind: "updateRun", tenantId: TENANT_A, id: runId, patch: { status: "FAILED" } }],
          ),
          "NOT_FOUND",
        );
        // Another tenant's agent is a missing one.
        await expectAppError(
          store.events.append(
            [event],
            [{ kind: "updateAgent", tenantId: TENANT_B, id: agent.id, patch: { state: "FAILED" } }],
          ),
          "NOT_FOUND",
        );
        expect(await store.events.list(TENANT_A, runId, 0)).toStrictEqual([]);
        expect(await store.agents.get(TENANT_A, agent.id)).toStrictEqual(agent);
        // Changes alone, with no event, are applied as well.
        await store.events.append(
          [],
          [{ kind: "updateAgent", tenantId: TENANT_A, id: agent.id, patch: { fitness: 0.5 } }],
        );
        expect((await store.agents.get(TENANT_A, agent.id))?.fitness).toBe(0.5);
      });
    });
  });
};
