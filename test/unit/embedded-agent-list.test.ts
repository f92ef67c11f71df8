import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createEmbeddedStore } from "../../src/adapters/embedded/embedded-store.js";
import type { Agent } from "../../src/domain/run.js";
import type { Store } from "../../src/ports/stores.js";
import { anAgent, anAgentResult, anId, aTranscriptEntry } from "../fixtures/builders.js";
import { readAll } from "../support/assertions.js";

const TENANT = "tenant-a";
const OTHER_TENANT = "tenant-b";
/** More agents than the read-path benchmark's page, with runs of equal createdAt to break by id. */
const AGENTS = 47;
const SAME_INSTANT = 3;
const PAGE_SIZES = [1, 7, 20, AGENTS, AGENTS + 1];
const BASE_MS = Date.UTC(2025, 8, 1);
const SECOND_MS = 1_000;

/** The order every listing promises: createdAt descending, then id descending. */
const newestFirst = (agents: readonly Agent[]): Agent[] =>
  [...agents].sort(
    (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
  );

/**
 * The embedded store's agent pages, checked against an order computed here rather than against the
 * store's own: every page size gives the same sequence, each record exactly as `get` returns it
 * (fields, key order, no `_id`), whatever the insertion order and however many createdAt ties.
 */
describe("embedded store: agents.list pages", () => {
  let store: Store;
  let agents: Agent[];

  beforeEach(async () => {
    store = await createEmbeddedStore({ dataDir: null });
    const runId = anId("run");
    agents = Array.from({ length: AGENTS }, (_, i) => {
      const createdAt = new Date(BASE_MS + Math.floor(i / SAME_INSTANT) * SECOND_MS);
      const fields = { tenantId: TENANT, runId, ordinal: i, createdAt };
      // Every other agent completed, with a result and a transcript: nested records to copy.
      return i % 2 === 0
        ? anAgent({
            ...fields,
            state: "COMPLETED",
            result: anAgentResult(),
            transcript: [aTranscriptEntry()],
            completedAt: createdAt,
          })
        : anAgent(fields);
    });
    // Inserted in an order unrelated to createdAt or id.
    for (const [i, agent] of agents.entries()) if (i % 3 === 1) await store.agents.create(agent);
    for (const [i, agent] of agents.entries()) if (i % 3 !== 1) await store.agents.create(agent);
    await store.agents.create(anAgent({ tenantId: OTHER_TENANT, runId, createdAt: new Date(BASE_MS) }));
  });
  afterEach(async () => {
    await store.close();
  });

  it("gives the same newest-first sequence for every page size", async () => {
    const expected = newestFirst(agents);
    for (const first of PAGE_SIZES) {
      expect(await readAll((page) => store.agents.list(TENANT, page), first)).toStrictEqual(expected);
    }
  });

  it("returns each agent exactly as get does", async () => {
    const { items } = await store.agents.list(TENANT, { first: AGENTS });
    for (const item of items) {
      const got = await store.agents.get(TENANT, item.id);
      expect(item).toStrictEqual(got);
      expect(Object.keys(item)).toStrictEqual(Object.keys(got ?? {}));
      expect(item).not.toHaveProperty("_id");
    }
  });
});
