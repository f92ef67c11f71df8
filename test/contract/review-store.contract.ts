import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Review, ReviewDecisionPatch } from "../../src/domain/review.js";
import type { ReviewStore } from "../../src/ports/reviews.js";

/** How a contract run gets a fresh, empty review store. */
export interface ReviewStoreContractInit {
  readonly name: string;
  create(): Promise<ReviewStore>;
  destroy?(store: ReviewStore): Promise<void>;
}

const T0 = Date.UTC(2026, 0, 1);
let counter = 0;
const aReview = (over: Partial<Review> = {}): Review => {
  counter++;
  return {
    id: `review-${counter}`,
    tenantId: "tenant-a",
    runId: "run-1",
    agentId: `agent-${counter}`,
    role: "CRITIC",
    claim: "a claim",
    debate: { protocol: "MAJORITY", rounds: [], votes: [], consensusReached: false, verdict: "REJECTED" },
    state: "PENDING",
    decision: null,
    revision: null,
    comment: null,
    keyId: null,
    createdAt: new Date(T0 + counter * 1_000),
    deadline: new Date(T0 + counter * 1_000 + 60_000),
    decidedAt: null,
    ...over,
  };
};
const approve: ReviewDecisionPatch = {
  state: "DECIDED",
  decision: "APPROVE",
  revision: null,
  comment: "ok",
  keyId: "key_1",
  decidedAt: new Date(T0),
};

/** The ReviewStore contract: tenant scoping, the pending list, one decision per review, the due sweep. */
export const reviewStoreContract = (init: ReviewStoreContractInit): void => {
  describe(`ReviewStore contract: ${init.name}`, () => {
    let store: ReviewStore;
    beforeEach(async () => {
      store = await init.create();
    });
    afterEach(async () => {
      await (init.destroy ? init.destroy(store) : store.close());
    });

    it("stores a review and reads it back by id, agent and run, for its tenant only", async () => {
      const r = aReview();
      await store.create(r);
      expect(await store.get("tenant-a", r.id)).toStrictEqual(r);
      expect(await store.forAgent("tenant-a", r.agentId)).toStrictEqual(r);
      expect(await store.listByRun("tenant-a", r.runId)).toStrictEqual([r]);
      expect(await store.get("tenant-b", r.id)).toBeNull();
      expect(await store.forAgent("tenant-b", r.agentId)).toBeNull();
      expect(await store.listByRun("tenant-b", r.runId)).toStrictEqual([]);
      await expect(store.create(r)).rejects.toMatchObject({ code: "CONFLICT" });
    });

    it("lists the tenant's pending reviews newest first, in pages", async () => {
      const reviews = [aReview(), aReview(), aReview(), aReview({ tenantId: "tenant-b" })];
      for (const r of reviews) await store.create(r);
      await store.decide("tenant-a", (reviews[0] as Review).id, approve);
      const first = await store.listPending("tenant-a", { first: 1 });
      expect(first.items.map((r) => r.id)).toStrictEqual([(reviews[2] as Review).id]);
      expect(first.hasNextPage).toBe(true);
      const rest = await store.listPending("tenant-a", { first: 10, after: first.cursors[0] });
      expect(rest.items.map((r) => r.id)).toStrictEqual([(reviews[1] as Review).id]);
      expect(rest.hasNextPage).toBe(false);
    });

    it("applies exactly one decision, even when decisions race", async () => {
      const r = aReview();
      await store.create(r);
      const results = await Promise.all([
        store.decide("tenant-a", r.id, approve),
        store.decide("tenant-a", r.id, { ...approve, decision: "REJECT" }),
        store.decide("tenant-a", r.id, { ...approve, state: "TIMED_OUT", decision: "FAIL" }),
      ]);
      const winners = results.filter((x) => x !== null);
      expect(winners).toHaveLength(1);
      expect(await store.get("tenant-a", r.id)).toStrictEqual(winners[0]);
      expect(await store.decide("tenant-b", r.id, approve)).toBeNull();
    });

    it("finds the pending reviews past their deadline across tenants", async () => {
      const early = aReview();
      const other = aReview({ tenantId: "tenant-b", deadline: early.deadline });
      const late = aReview({ deadline: new Date(early.deadline.getTime() + 3_600_000) });
      const decided = aReview({ deadline: early.deadline });
      for (const r of [early, other, late, decided]) await store.create(r);
      await store.decide("tenant-a", decided.id, approve);
      const due = await store.due(early.deadline, 10);
      expect(due.map((r) => r.id).sort()).toStrictEqual([early.id, other.id].sort());
      expect(await store.due(early.deadline, 1)).toHaveLength(1);
    });
  });
};
