import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { runClientCli } from "../../client/cli/main.js";
import {
  CancelOrchestrationDocument,
  OrchestrationDocument,
  OrchestrationEventLogDocument,
  type OrchestrationQuery,
  PendingReviewsDocument,
  type ReviewDecision,
  type ReviewOnTimeout,
  type ReviewWhen,
  RunProvenanceDocument,
  StartOrchestrationDocument,
  SubmitReviewDocument,
} from "../../client/generated/graphql.js";
import { createVexClient } from "../../client/index.js";
import { verifyRun } from "../../client/verify.js";
import { openBackends } from "../../src/app/backends.js";
import { loadConfig } from "../../src/config.js";
import {
  agreeVerdictJson,
  type FakeOpenAi,
  type RecordedRequest,
  startFakeOpenAi,
} from "../fakes/fake-openai-server.js";
import { createKeyFor, type ServerBackend } from "../support/backends.js";
import { execute, request } from "../support/graphql.js";
import { makeDataDir, removeDir, startTestServer, type TestServer } from "../support/server.js";
import { waitFor } from "../support/wait.js";

/** Answers every call sensibly; the CRITIC's claims are challenged in every round (its debate rejects them). */
const CHALLENGE_CRITIC = (req: RecordedRequest) => {
  const tag = req.tag;
  if (tag?.kind === "CHALLENGE" && tag.role === "CRITIC") {
    return {
      content: JSON.stringify({
        isChallenge: true,
        confidence: 0.95,
        reasoning: "The claim does not hold.",
        suggestedRevision: null,
      }),
    };
  }
  if (tag?.kind === "CHALLENGE" || tag?.kind === "REPAIR") return { content: agreeVerdictJson() };
  return {
    content: `${tag?.role} ${tag?.kind} (round ${tag?.round}, turn ${req.turn}): a considered reply.`,
  };
};

/** Long enough for a loaded machine; every wait ends as soon as its condition holds. */
const WAIT = { timeoutMs: 60_000, intervalMs: 50 };
/** A test may wait for a run more than once. */
const TEST_TIMEOUT_MS = 180_000;

/**
 * Human review gates end to end over the real API (docs/reviews-and-budgets.md), run once per backend: the embedded
 * store with the in-process queue (reviews.e2e.test.ts) and MongoDB with Redis and BullMQ
 * (mongo-reviews.e2e.test.ts).
 */
export const reviewsSuite = (backend: () => Promise<ServerBackend>) => {
  let be: ServerBackend;
  let env: Record<string, string>;
  let dataDir: string;
  let fake: FakeOpenAi;
  let server: TestServer | undefined;
  let alice: { key: string; id: string };
  let mallory: { key: string; id: string };

  const start = async () => {
    server = await startTestServer({
      dataDir,
      env: {
        ...env,
        OPENAI_BASE_URL: fake.url,
        OPENAI_API_KEY: "sk-test",
        VEX_MODEL: "fake-model",
        VEX_LLM_CONTEXT_HEADERS: "true",
        // One worker slot and one run per tenant: a parked run must hold neither.
        VEX_WORKER_CONCURRENCY: "1",
        VEX_MAX_CONCURRENT_RUNS_PER_TENANT: "1",
      },
    });
    return server;
  };

  beforeAll(async () => {
    be = await backend();
    env = await be.env();
    dataDir = await makeDataDir();
    alice = await createKeyFor(env, dataDir, "alice");
    mallory = await createKeyFor(env, dataDir, "mallory");
    fake = await startFakeOpenAi({ script: CHALLENGE_CRITIC });
    await start();
  });
  afterAll(async () => {
    await server?.stop();
    await fake?.close();
    await removeDir(dataDir);
    await be?.cleanup();
  });
  afterEach(async () => {
    // A test that restarted the server leaves a running one for the next.
    if (server === undefined) await start();
  });

  const as = (who: { key: string }) => ({ authorization: `Bearer ${who.key}` });
  const url = () => (server as TestServer).url;

  const startRun = async (
    review?: { when: ReviewWhen; timeoutSeconds?: number; onTimeout?: ReviewOnTimeout },
    query = "Is the review gate working?",
  ) =>
    (
      await request(
        url(),
        StartOrchestrationDocument,
        { input: { query, maxDebateRounds: 1, ...(review ? { review } : {}) } },
        as(alice),
      )
    ).startOrchestration;

  const readRun = async (id: string) =>
    (await request(url(), OrchestrationDocument, { id }, as(alice))).orchestration as NonNullable<
      OrchestrationQuery["orchestration"]
    >;

  const untilStatus = async (id: string, statuses: readonly string[]) => {
    await waitFor(async () => statuses.includes((await readRun(id)).status), WAIT);
    return readRun(id);
  };
  const ENDED = ["SUCCEEDED", "FAILED", "CANCELLED", "INTERRUPTED"];

  const pendingOf = async (runId: string, who = alice) =>
    (await request(url(), PendingReviewsDocument, { first: 100 }, as(who))).pendingReviews.edges
      .map((e) => e.node)
      .filter((r) => r.orchestrationId === runId);

  const decide = (
    orchestrationId: string,
    reviewId: string,
    decision: ReviewDecision,
    extra: { revision?: string; comment?: string } = {},
    who = alice,
  ) =>
    execute(
      url(),
      SubmitReviewDocument,
      { input: { orchestrationId, reviewId, decision, ...extra } },
      as(who),
    );

  /** Waits for the run to park with exactly one pending review and returns that review. */
  const parkedReview = async (runId: string) => {
    const run = await untilStatus(runId, ["AWAITING_REVIEW", ...ENDED]);
    expect(run.status).toBe("AWAITING_REVIEW");
    const pending = await pendingOf(runId);
    expect(pending).toHaveLength(1);
    return pending[0] as NonNullable<(typeof pending)[number]>;
  };

  const events = async (id: string) =>
    (await request(url(), OrchestrationEventLogDocument, { id }, as(alice))).orchestration?.events ?? [];

  const callsOf = (runId: string) => fake.requests.filter((r) => r.tag?.runId === runId);

  describe("policies", { timeout: TEST_TIMEOUT_MS }, () => {
    it("NEVER (the default) never waits, even for a rejected claim", async () => {
      const run = await startRun();
      const done = await untilStatus(run.id, ENDED);
      expect(done.status).toBe("SUCCEEDED");
      expect(done.config.review).toBeNull();
      const critic = done.agents.find((a) => a.role === "CRITIC");
      expect(critic?.result?.verified).toBe(false);
      expect(await pendingOf(run.id)).toHaveLength(0);
    });

    it("UNVERIFIED waits only for the agent whose debate rejected its claim, before its parent synthesises", async () => {
      const run = await startRun({ when: "UNVERIFIED" });
      const review = await parkedReview(run.id);
      expect(review.role).toBe("CRITIC");
      expect(review.state).toBe("PENDING");
      expect(review.debate.verdict).not.toBe("UPHELD");
      // The parent has not used the claim: no SYNTHESIS call yet, the researcher is done.
      expect(callsOf(run.id).some((r) => r.tag?.kind === "SYNTHESIS")).toBe(false);
      const parked = await readRun(run.id);
      expect(parked.agents.find((a) => a.role === "RESEARCHER")?.state).toBe("COMPLETED");
      expect(parked.agents.find((a) => a.role === "CRITIC")?.state).toBe("AWAITING_REVIEW");
      const callsBefore = callsOf(run.id).length;
      const requested = (await events(run.id)).filter((e) => e.__typename === "ReviewRequested");
      expect(requested).toHaveLength(1);

      const decided = await decide(run.id, review.id, "APPROVE", { comment: "fine by me" });
      expect(decided.errors).toBeUndefined();
      expect(decided.data?.submitReview).toMatchObject({
        state: "DECIDED",
        decision: "APPROVE",
        keyId: alice.id,
      });
      const done = await untilStatus(run.id, ENDED);
      expect(done.status).toBe("SUCCEEDED");
      // Only the root's synthesis and its debate ran after the decision; the critic's calls were not repeated.
      const after = callsOf(run.id).slice(callsBefore);
      expect(after.every((r) => r.tag?.role === "ROOT")).toBe(true);
      const critic = done.agents.find((a) => a.role === "CRITIC");
      expect(
        callsOf(run.id).filter((r) => r.tag?.agentId === critic?.id && r.tag?.kind === "ANSWER"),
      ).toHaveLength(1);
      expect(critic?.result?.verified).toBe(true);
      const types = (await events(run.id)).map((e) => e.__typename);
      expect(types.filter((t) => t === "ReviewSubmitted")).toHaveLength(1);
      expect(types.indexOf("ReviewSubmitted")).toBeGreaterThan(types.indexOf("ReviewRequested"));
      expect(types.at(-1)).toBe("RunFinished");
      expect(critic?.result?.debate.votes.at(-1)).toMatchObject({
        voter: "HUMAN",
        agrees: true,
        decision: "APPROVE",
        keyId: alice.id,
        comment: "fine by me",
        timedOut: false,
      });
    });

    it("FINAL waits for the root only", async () => {
      const run = await startRun({ when: "FINAL" });
      const review = await parkedReview(run.id);
      expect(review.role).toBe("ROOT");
      expect((await decide(run.id, review.id, "APPROVE")).errors).toBeUndefined();
      const done = await untilStatus(run.id, ENDED);
      expect(done.status).toBe("SUCCEEDED");
      expect(
        done.agents.find((a) => a.role === "CRITIC")?.result?.debate.votes.some((v) => v.voter === "HUMAN"),
      ).toBe(false);
      // The run resumed after the decision: its tree still has a leaf for every agent, not only the root.
      expect(new Set(done.leafOrder)).toEqual(new Set(done.agents.map((a) => a.id)));
      expect(done.agents).toHaveLength(3);
    });

    it("ALWAYS waits for the rejected claim, then for the root", async () => {
      const run = await startRun({ when: "ALWAYS" });
      const first = await parkedReview(run.id);
      expect(first.role).toBe("CRITIC");
      expect((await decide(run.id, first.id, "APPROVE")).errors).toBeUndefined();
      await waitFor(async () => (await pendingOf(run.id)).some((r) => r.role === "ROOT"), WAIT);
      const second = await parkedReview(run.id);
      expect((await decide(run.id, second.id, "APPROVE")).errors).toBeUndefined();
      expect((await untilStatus(run.id, ENDED)).status).toBe("SUCCEEDED");
    });
  });

  describe("decisions", { timeout: TEST_TIMEOUT_MS }, () => {
    it("REVISE replaces the claim the parent synthesises; REJECT tells the parent it was rejected", async () => {
      const revised = await startRun({ when: "UNVERIFIED" });
      const r1 = await parkedReview(revised.id);
      const text = "A reviewer's corrected finding 7f3a.";
      expect((await decide(revised.id, r1.id, "REVISE", { revision: text })).errors).toBeUndefined();
      const done = await untilStatus(revised.id, ENDED);
      expect(done.status).toBe("SUCCEEDED");
      const synthesis = callsOf(revised.id).find((r) => r.tag?.kind === "SYNTHESIS");
      expect(synthesis?.rawBody).toContain(text);
      expect(done.agents.find((a) => a.role === "CRITIC")?.result?.response).toBe(text);

      const rejected = await startRun({ when: "UNVERIFIED" });
      const r2 = await parkedReview(rejected.id);
      expect((await decide(rejected.id, r2.id, "REJECT")).errors).toBeUndefined();
      const done2 = await untilStatus(rejected.id, ENDED);
      expect(done2.status).toBe("SUCCEEDED");
      const critic = done2.agents.find((a) => a.role === "CRITIC");
      expect(critic?.result).toMatchObject({ verified: false, confidence: 0 });
      expect(callsOf(rejected.id).find((r) => r.tag?.kind === "SYNTHESIS")?.rawBody).toContain(
        "REJECTED by a human reviewer",
      );
    });

    it("refuses a second decision, another tenant's review and a REVISE without text, changing nothing", async () => {
      const run = await startRun({ when: "UNVERIFIED" });
      const review = await parkedReview(run.id);
      const noText = await decide(run.id, review.id, "REVISE", { revision: "  " });
      expect(noText.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
      const foreign = await decide(run.id, review.id, "APPROVE", {}, mallory);
      expect(foreign.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
      expect(await pendingOf(run.id, mallory)).toHaveLength(0);
      expect(await pendingOf(run.id)).toHaveLength(1);
      expect((await readRun(run.id)).status).toBe("AWAITING_REVIEW");

      expect((await decide(run.id, review.id, "REJECT")).errors).toBeUndefined();
      const again = await decide(run.id, review.id, "APPROVE");
      expect(again.errors?.[0]?.extensions?.code).toBe("REVIEW_ALREADY_DECIDED");
      const done = await untilStatus(run.id, ENDED);
      expect(done.agents.find((a) => a.role === "CRITIC")?.result?.verified).toBe(false);
    });

    it("refuses a review timeout out of bounds", async () => {
      const res = await execute(
        url(),
        StartOrchestrationDocument,
        { input: { query: "q", review: { when: "FINAL", timeoutSeconds: 0 } } },
        as(alice),
      );
      expect(res.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
      expect(res.errors?.[0]?.message).toContain("review.timeoutSeconds");
    });
  });

  describe("timeouts", { timeout: TEST_TIMEOUT_MS }, () => {
    it("applies onTimeout FAIL: the run ends FAILED with REVIEW_TIMED_OUT", async () => {
      const run = await startRun({ when: "FINAL", timeoutSeconds: 1, onTimeout: "FAIL" });
      const done = await untilStatus(run.id, ENDED);
      expect(done.status).toBe("FAILED");
      expect(done.error?.code).toBe("REVIEW_TIMED_OUT");
    });

    it("applies onTimeout APPROVE as a HUMAN vote marked timedOut", async () => {
      const run = await startRun({ when: "FINAL", timeoutSeconds: 1, onTimeout: "APPROVE" });
      const done = await untilStatus(run.id, ENDED);
      expect(done.status).toBe("SUCCEEDED");
      const root = done.agents.find((a) => a.role === "ROOT");
      expect(root?.result?.debate.votes.at(-1)).toMatchObject({
        voter: "HUMAN",
        decision: "APPROVE",
        timedOut: true,
      });
    });
  });

  describe("the CLI and the SDK", { timeout: TEST_TIMEOUT_MS }, () => {
    const cli = async (args: string[]) => {
      const lines: string[] = [];
      const io = {
        write: () => {},
        out: (l: string) => lines.push(l),
        err: (l: string) => lines.push(l),
        isTTY: false,
      };
      const code = await runClientCli([...args, "--url", url()], { VEX_API_KEY: alice.key }, io);
      return { code, lines };
    };

    it("vex reviews lists what waits and vex review revise decides it", async () => {
      const run = await startRun({ when: "UNVERIFIED" });
      const review = await parkedReview(run.id);
      const listed = await cli(["reviews", "--json"]);
      expect(listed.code).toBe(0);
      const page = JSON.parse(listed.lines[0] as string) as { edges: { node: { id: string } }[] };
      expect(page.edges.map((e) => e.node.id)).toContain(review.id);
      const text = await cli(["reviews"]);
      expect(text.lines.some((l) => l.startsWith(review.id) && l.includes("CRITIC"))).toBe(true);

      await expect(cli(["review", run.id, review.id, "revise"])).rejects.toThrow("revise needs --text");
      const decided = await cli([
        "review",
        run.id,
        review.id,
        "revise",
        "--text",
        "CLI revision 51c",
        "--comment",
        "via CLI",
      ]);
      expect(decided.code).toBe(0);
      expect(decided.lines[0]).toContain("REVISE");
      expect((await untilStatus(run.id, ENDED)).status).toBe("SUCCEEDED");
      const critic = (await readRun(run.id)).agents.find((a) => a.role === "CRITIC");
      expect(critic?.result?.response).toBe("CLI revision 51c");
      expect(critic?.result?.debate.votes.at(-1)).toMatchObject({ keyId: alice.id, comment: "via CLI" });
    });

    it("the SDK lists pending reviews and submits a decision with the client's key", async () => {
      const client = createVexClient({ url: url(), apiKey: alice.key, webSocketImpl: WebSocket });
      try {
        const run = await startRun({ when: "FINAL" });
        const review = await parkedReview(run.id);
        const pending = await client.pendingReviews({ first: 100 });
        expect(pending.edges.map((e) => e.node.id)).toContain(review.id);
        const decided = await client.submitReview({
          orchestrationId: run.id,
          reviewId: review.id,
          decision: "APPROVE",
        });
        expect(decided).toMatchObject({ state: "DECIDED", keyId: alice.id });
        expect((await untilStatus(run.id, ENDED)).status).toBe("SUCCEEDED");
      } finally {
        await client.close();
      }
    });
  });

  describe("holding nothing while it waits", { timeout: TEST_TIMEOUT_MS }, () => {
    it("a parked run holds no worker slot and no run slot: another run completes meanwhile", async () => {
      const waiting = await startRun({ when: "UNVERIFIED" });
      const review = await parkedReview(waiting.id);
      const open = fake.inFlight;
      expect(open).toBe(0);
      const other = await startRun(undefined, "Another question while the first waits");
      expect((await untilStatus(other.id, ENDED)).status).toBe("SUCCEEDED");
      expect((await readRun(waiting.id)).status).toBe("AWAITING_REVIEW");
      expect((await decide(waiting.id, review.id, "APPROVE")).errors).toBeUndefined();
      expect((await untilStatus(waiting.id, ENDED)).status).toBe("SUCCEEDED");
    });

    it("cancels a parked run at once", async () => {
      const run = await startRun({ when: "UNVERIFIED" });
      const review = await parkedReview(run.id);
      const cancelled = await execute(url(), CancelOrchestrationDocument, { id: run.id }, as(alice));
      expect(cancelled.data?.cancelOrchestration.status).toBe("CANCELLED");
      expect((await readRun(run.id)).agents.find((a) => a.role === "CRITIC")?.state).toBe("CANCELLED");
      // A review of a run that ended can no longer be decided.
      expect((await decide(run.id, review.id, "APPROVE")).errors?.[0]?.extensions?.code).toBe("CONFLICT");
      expect((await readRun(run.id)).status).toBe("CANCELLED");
    });
  });

  describe("durability and proof", { timeout: TEST_TIMEOUT_MS }, () => {
    it("a run awaiting review survives a restart and completes on approval without repeating an LLM call", async () => {
      const run = await startRun({ when: "UNVERIFIED" });
      const review = await parkedReview(run.id);
      const before = callsOf(run.id).map((r) => `${r.tag?.agentId}/${r.tag?.kind}/${r.tag?.round}`);
      await server?.stop();
      server = undefined;
      await start();
      expect((await readRun(run.id)).status).toBe("AWAITING_REVIEW");
      expect((await decide(run.id, review.id, "APPROVE")).errors).toBeUndefined();
      expect((await untilStatus(run.id, ENDED)).status).toBe("SUCCEEDED");
      const all = callsOf(run.id).map((r) => `${r.tag?.agentId}/${r.tag?.kind}/${r.tag?.round}`);
      expect(all.slice(0, before.length)).toEqual(before);
      // Every call after the restart is new: none of the calls made before it is made again.
      expect(all.slice(before.length).filter((c) => before.includes(c))).toEqual([]);
    });

    it("a decision stored just before a crash (its run not yet continued) continues the run at the next start", async () => {
      const run = await startRun({ when: "UNVERIFIED" });
      const review = await parkedReview(run.id);
      await server?.stop();
      server = undefined;
      // What a crash between storing the decision and continuing the run leaves behind.
      const backends = await openBackends(loadConfig({ ...env, VEX_DATA_DIR: dataDir }), {
        now: () => new Date(),
      });
      try {
        const decided = await backends.reviews.decide("alice", review.id, {
          state: "DECIDED",
          decision: "APPROVE",
          revision: null,
          comment: null,
          keyId: alice.id,
          decidedAt: new Date(),
        });
        expect(decided?.state).toBe("DECIDED");
      } finally {
        await backends.close();
      }
      await start();
      expect((await untilStatus(run.id, ENDED)).status).toBe("SUCCEEDED");
    });

    it("the human vote is proven: the run verifies, and changing the vote makes verification fail", async () => {
      const run = await startRun({ when: "UNVERIFIED" });
      const review = await parkedReview(run.id);
      expect((await decide(run.id, review.id, "APPROVE", { comment: "checked" })).errors).toBeUndefined();
      expect((await untilStatus(run.id, ENDED)).status).toBe("SUCCEEDED");
      const honest = await verifyRun(
        { request: (doc, ...vars) => request(url(), doc, vars[0] as never, as(alice)) },
        run.id,
      );
      expect(honest.ok).toBe(true);
      for (const change of [
        (v: Record<string, unknown>) => {
          v.keyId = mallory.id;
        },
        (v: Record<string, unknown>) => {
          v.decision = "REVISE";
        },
        (v: Record<string, unknown>) => {
          v.comment = "not checked";
        },
      ]) {
        const tampered = await verifyRun(
          {
            request: async (doc, ...vars) => {
              const data = (await request(url(), doc, vars[0] as never, as(alice))) as Record<
                string,
                unknown
              >;
              if ((doc as unknown) !== RunProvenanceDocument) return data as never;
              const copy = structuredClone(data) as {
                orchestration: {
                  agents: { result: { debate: { votes: Record<string, unknown>[] } } | null }[];
                };
              };
              for (const a of copy.orchestration.agents) {
                const human = a.result?.debate.votes.find((v) => v.voter === "HUMAN");
                if (human) change(human);
              }
              return copy as never;
            },
          },
          run.id,
        );
        expect(tampered.ok).toBe(false);
      }
    });
  });
};
