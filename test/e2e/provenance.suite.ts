import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  InclusionProofDocument,
  LedgerCheckpointDocument,
  LedgerConsistencyDocument,
  OrchestrationEventsDocument,
  RunProvenanceDocument,
  StartOrchestrationDocument,
} from "../../client/generated/graphql.js";
import { noteVerifierOf, verifyRunProvenance } from "../../client/index.js";
import { verifyInclusionProof } from "../../client/proofs.js";
import { runVerify } from "../../scripts/verify.js";
import type { ServerBackend } from "../support/backends.js";
import { collect, request, wsClient } from "../support/graphql.js";
import { removeDir, startTestServer, type TestServer } from "../support/server.js";

/**
 * Provenance over the real server, run once per backend: provenance.e2e.test.ts (embedded store)
 * and mongo-provenance.e2e.test.ts (MongoDB and the Redis bus).
 */
export const provenanceSuite = (backend: ServerBackend) => {
  /** Requests without an API key act as this tenant on a loopback server with no keys. */
  const DEFAULT_TENANT = "default";

  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: await backend.env() });
  });
  afterAll(async () => {
    await server.stop();
    await removeDir(server.dataDir);
    await backend.cleanup();
  });

  /** Starts a run and waits for its last event; returns the run id and the streamed event type names. */
  const finishedRun = async (query: string) => {
    const { startOrchestration } = await request(server.url, StartOrchestrationDocument, {
      input: { query },
    });
    const client = wsClient(server.wsUrl);
    try {
      const results = await collect(client, OrchestrationEventsDocument, {
        orchestrationId: startOrchestration.id,
      });
      return { id: startOrchestration.id, types: results.map((r) => r.data?.orchestrationEvents.__typename) };
    } finally {
      await client.dispose();
    }
  };

  /** The run's provenance and the anchored checkpoint's consistency data, through the generated documents. */
  const provenanceOf = async (id: string) => {
    const data = await request(server.url, RunProvenanceDocument, { id });
    const run = data.orchestration;
    if (run === null || run.ledgerProof === null) throw new Error(`run ${id} has no provenance`);
    const anchored = await request(server.url, LedgerConsistencyDocument, {
      firstSize: run.anchorReceipts[0]?.entry.treeSize ?? 0,
      secondSize: run.ledgerProof.treeSize,
    });
    return { run, key: noteVerifierOf(data.ledgerPublicKey), anchored, publicKey: data.ledgerPublicKey };
  };

  const failures = (checks: readonly { name: string; ok: boolean }[]) =>
    checks.filter((c) => !c.ok).map((c) => c.name);

  describe(`provenance over the real server, verified with client/verify.ts only (${backend.name})`, () => {
    it("anchors each run and proves every claim of it offline", async () => {
      const first = await finishedRun("Why is the sky blue?");
      expect(first.types.at(-2)).toBe("AnchorRecorded");
      expect(first.types.at(-1)).toBe("RunFinished");

      const p = await provenanceOf(first.id);
      expect(p.run.anchorReceipts.map((r) => r.backend)).toEqual([backend.defaultAnchor]);
      expect(p.publicKey).toMatchObject({ keyName: "vex.localhost/ledger/default", algorithm: "Ed25519" });
      const checks = verifyRunProvenance(p);
      expect(failures(checks)).toEqual([]);
      expect(checks.length).toBeGreaterThan(3 * 4 + 8);

      // The stand-alone query returns the same proof as the field on AgentResult.
      const agent = p.run.agents[1]!;
      const { inclusionProof } = await request(server.url, InclusionProofDocument, {
        orchestrationId: first.id,
        agentId: agent.id,
      });
      expect(inclusionProof).toEqual(agent.result?.inclusionProof);
      expect(
        inclusionProof &&
          verifyInclusionProof(inclusionProof, {
            leafHash: agent.result?.contextHash ?? "",
            leafIndex: 1,
            treeSize: p.run.leafOrder.length,
            root: p.run.merkleRoot ?? "",
          }),
      ).toBe(true);
    });

    it("keeps old checkpoints consistent with new ones as the ledger grows", async () => {
      const before = await request(server.url, LedgerCheckpointDocument, {});
      const oldSize = before.ledgerCheckpoint?.treeSize ?? 0;
      const second = await finishedRun("And why are sunsets red?");
      const third = await finishedRun("And what about the moon?");
      const p3 = await provenanceOf(third.id);
      expect(p3.run.ledgerProof?.treeSize).toBe(oldSize + 2);
      expect(failures(verifyRunProvenance(p3))).toEqual([]);

      // The second run, proven against the latest checkpoint: its anchored checkpoint is now an old one.
      const p2 = await provenanceOf(second.id);
      expect(p2.anchored.ledgerConsistencyProof).toMatchObject({
        firstSize: oldSize + 1,
        secondSize: oldSize + 2,
      });
      expect(failures(verifyRunProvenance(p2))).toEqual([]);

      for (let m = 1; m <= oldSize + 2; m++) {
        const q = await request(server.url, LedgerConsistencyDocument, {
          firstSize: m,
          secondSize: oldSize + 2,
        });
        const { run, key } = p3;
        const checks = verifyRunProvenance({
          run,
          key,
          anchored: { ...q, first: q.first, second: q.second },
        });
        expect(checks.find((c) => c.name.startsWith("ledger consistency"))?.ok).toBe(true);
      }
    });

    it("the verify script passes an untouched run and fails once a stored result or an anchor line changes", async () => {
      const { id } = await finishedRun("Is tampering detected?");
      const lines: string[] = [];
      const verify = () => runVerify([id, "--url", server.url], { out: (l) => lines.push(l) });
      expect(await verify()).toBe(0);
      expect(lines.at(-1)).toMatch(/^all \d+ checks passed$/);

      // A direct store write: the critic's stored response changes, nothing else.
      const agents = await server.app.store.agents.listByRun(DEFAULT_TENANT, id);
      const critic = agents[2]!;
      await server.app.store.agents.update(DEFAULT_TENANT, critic.id, {
        result: { ...critic.result!, response: `${critic.result?.response} (edited)` },
      });
      lines.length = 0;
      expect(await verify()).toBe(1);
      // The leaf no longer recomputes, so neither the proof from it nor the root over the leaves holds.
      expect(lines.filter((l) => l.startsWith("FAIL"))).toEqual([
        expect.stringMatching(/^FAIL {2}agent 2 .*leaf recomputes to contextHash/),
        expect.stringMatching(/^FAIL {2}agent 2 .*inclusion proof reaches merkleRoot/),
        expect.stringMatching(/^FAIL {2}merkleRoot recomputes from the leaves/),
      ]);
      await server.app.store.agents.update(DEFAULT_TENANT, critic.id, { result: critic.result });
      lines.length = 0;
      expect(await verify()).toBe(0);

      // One character of an earlier line of the anchor file changes. (A tampered MongoDB anchor is
      // proven to fail re-verification in test/contract/anchor-backend.contract.ts, on FerretDB.)
      if (backend.defaultAnchor !== "file") return;
      const file = join(server.dataDir, "anchors.jsonl");
      const text = await readFile(file, "utf8");
      await writeFile(file, text.replace('"treeSize":1', '"treeSize":7'));
      lines.length = 0;
      expect(await verify()).toBe(1);
      expect(lines.filter((l) => l.startsWith("FAIL"))).toEqual([
        expect.stringMatching(/^FAIL {2}anchor file .*server re-verification of the chain/),
      ]);
      await writeFile(file, text);
    });
  });
};
