import { cp, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OrchestrationEventsDocument, StartOrchestrationDocument } from "../../client/generated/graphql.js";
import { runVerify } from "../../scripts/verify.js";
import { NEDB_IMPORTED_DIR_PREFIX } from "../../src/adapters/embedded/nedb-import.js";
import { EMBEDDED_DB_FILE } from "../../src/adapters/embedded/sqlite.js";
import { collect, request, wsClient } from "../support/graphql.js";
import { bearer } from "../support/keys.js";
import { type ServedSnapshot, servedSnapshot } from "../support/served-snapshot.js";
import { makeDataDir, removeDir, startTestServer, type TestServer } from "../support/server.js";

/** A data folder the NeDB-based store wrote, and what the API served from it then (see its README). */
const FIXTURE = join(import.meta.dirname, "../fixtures/nedb-data");

interface Expected {
  readonly keys: Record<"default" | "acme", string>;
  readonly tenants: Record<"default" | "acme", ServedSnapshot>;
}
const TENANTS = ["default", "acme"] as const;

let dataDir: string;
let expected: Expected;
let nedbFiles: string[];
beforeAll(async () => {
  dataDir = await makeDataDir();
  await cp(join(FIXTURE, "data"), dataDir, { recursive: true });
  nedbFiles = (await readdir(dataDir)).filter((f) => f.endsWith(".db"));
  expected = JSON.parse(await readFile(join(FIXTURE, "expected.json"), "utf8")) as Expected;
});
afterAll(() => removeDir(dataDir));

const verifyRun = async (server: TestServer, id: string, key: string) => {
  const lines: string[] = [];
  const code = await runVerify([id, "--url", server.url], { out: (l) => lines.push(l), apiKey: key });
  return { code, last: lines.at(-1) };
};

/**
 * The fixture is what the API served before the import existed. Since then the API gained fields
 * (served snapshots may carry more: toMatchObject), and one answer changed on purpose: a gene-pool
 * entry's genome shows no LLM parameters, because only an agent knows what its requests carried.
 */
const asServedNow = (snapshot: ServedSnapshot) => ({
  ...snapshot,
  genePool: {
    genePool: snapshot.genePool.genePool.map((entry) => ({
      ...entry,
      genome: { ...entry.genome, llmParams: null },
    })),
  },
});

describe("first start on a NeDB data folder", () => {
  it("imports everything once, serves it as before, and every old run still verifies", async () => {
    const server = await startTestServer({ dataDir });
    try {
      for (const tenant of TENANTS) {
        const key = expected.keys[tenant];
        const served = await servedSnapshot(server.url, key);
        expect(served).toMatchObject(asServedNow(expected.tenants[tenant]));
        expect(served.runs.length).toBeGreaterThan(0);
        for (const { run } of served.runs) {
          const id = run.orchestration?.id as string;
          expect(await verifyRun(server, id, key)).toEqual({
            code: 0,
            last: expect.stringMatching(/passed$/),
          });
        }
      }
      // The imported ledger grows on: a new run is appended after the old entries and verifies too.
      const key = expected.keys.acme;
      const { startOrchestration } = await request(
        server.url,
        StartOrchestrationDocument,
        { input: { query: "after the import", maxDepth: 1 } },
        bearer(key),
      );
      const client = wsClient(server.wsUrl, key);
      await collect(client, OrchestrationEventsDocument, { orchestrationId: startOrchestration.id });
      await client.dispose();
      expect(await verifyRun(server, startOrchestration.id, key)).toMatchObject({ code: 0 });
    } finally {
      await server.stop();
    }

    // The old files were moved aside unchanged, next to the new database.
    const entries = await readdir(dataDir);
    expect(entries).toContain(EMBEDDED_DB_FILE);
    expect(entries.filter((f) => f.endsWith(".db") && f !== EMBEDDED_DB_FILE)).toEqual([]);
    const aside = entries.filter((f) => f.startsWith(NEDB_IMPORTED_DIR_PREFIX));
    expect(aside).toHaveLength(1);
    const moved = (await readdir(join(dataDir, aside[0] as string))).sort();
    expect(moved).toEqual([...nedbFiles].sort());
    for (const file of moved) {
      expect(await readFile(join(dataDir, aside[0] as string, file), "utf8")).toBe(
        await readFile(join(FIXTURE, "data", file), "utf8"),
      );
    }

    // A second start imports nothing more and serves the same history.
    const again = await startTestServer({ dataDir });
    try {
      const served = await servedSnapshot(again.url, expected.keys.default);
      expect(served).toMatchObject(asServedNow(expected.tenants.default));
      expect((await readdir(dataDir)).filter((f) => f.startsWith(NEDB_IMPORTED_DIR_PREFIX))).toHaveLength(1);
    } finally {
      await again.stop();
    }
  });
});
