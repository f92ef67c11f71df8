import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StartOrchestrationDocument } from "../../client/generated/graphql.js";
import { request, runEvents } from "../support/graphql.js";
import { removeDir, startTestServer, type TestServer } from "../support/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
  await removeDir(server.dataDir);
});

/** How often the store ran an operation, from the server's own /metrics. */
const storeCalls = async (operation: string): Promise<number> => {
  const text = await (await fetch(server.url.replace("/graphql", "/metrics"))).text();
  const line = text
    .split("\n")
    .find((l) =>
      l.startsWith(`vex_store_operation_duration_seconds_count{operation="${operation}",outcome="ok"}`),
    );
  return line === undefined ? 0 : Number(line.split(" ").at(-1));
};

const LIST_WITH_PROOFS = `{
  orchestrations(first: 3) {
    edges { node { id agents { id result { inclusionProof { leafIndex root } } } } }
  }
}`;

describe("list fields are batched, not N+1", () => {
  it("reads the agents of a page of runs in one store call, and each run's leaves once", async () => {
    for (const q of ["one", "two", "three"]) {
      const { startOrchestration } = await request(server.url, StartOrchestrationDocument, {
        input: { query: q },
      });
      await runEvents(server.wsUrl, { orchestrationId: startOrchestration.id });
    }
    const before = {
      byRuns: await storeCalls("agents.listByRuns"),
      byRun: await storeCalls("agents.listByRun"),
      getMany: await storeCalls("agents.getMany"),
    };
    const res = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: LIST_WITH_PROOFS }),
    });
    const body = (await res.json()) as {
      errors?: unknown;
      data: {
        orchestrations: { edges: { node: { agents: { result: { inclusionProof: { root: string } } }[] } }[] };
      };
    };
    expect(body.errors).toBeUndefined();
    const agents = body.data.orchestrations.edges.flatMap((e) => e.node.agents);
    expect(agents).toHaveLength(9);
    expect(agents.every((a) => /^[0-9a-f]{64}$/.test(a.result.inclusionProof.root))).toBe(true);
    expect(await storeCalls("agents.listByRuns")).toBe(before.byRuns + 1);
    expect(await storeCalls("agents.listByRun")).toBe(before.byRun);
    // One read of the leaves per run for all of its agents' proofs (9 agents, 3 runs).
    expect(await storeCalls("agents.getMany")).toBe(before.getMany + 3);
  });
});
