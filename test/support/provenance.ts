import { join } from "node:path";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { execute } from "graphql";
import { LedgerConsistencyDocument, RunProvenanceDocument } from "../../client/generated/graphql.js";
import { noteVerifierOf, type RunProvenanceInput } from "../../client/index.js";
import { createFileAnchor } from "../../src/adapters/anchor/file-anchor.js";
import { createEmbeddedProvenanceStore } from "../../src/adapters/embedded/provenance-store.js";
import { createOfflineLlm } from "../../src/adapters/offline-llm/offline-llm.js";
import { ed25519FromSeed } from "../../src/domain/ed25519.js";
import { createProvenanceHook, type ProvenanceDeps } from "../../src/orchestrator/provenance-hook.js";
import { createProvenanceService } from "../../src/orchestrator/provenance-service.js";
import type { GraphQLContext } from "../../src/resolvers/context.type.js";
import { createLoaders } from "../../src/resolvers/loaders.js";
import { buildVexSchema } from "../../src/server/schema.js";
import { createTestOrchestrator, drain, steppingClock } from "./orchestrator.js";
import { makeDataDir, removeDir } from "./server.js";

/** The tenant every harness run belongs to. */
export const HARNESS_TENANT = "tenant-a";
/** Ledger origin prefix of the harness. */
export const HARNESS_ORIGIN = "vex.test/ledger";
/** Seed of the harness's signing key: 32 bytes of 0x2a. */
export const HARNESS_SEED = new Uint8Array(32).fill(0x2a);

/**
 * Runs with provenance in one process, no network: orchestrator and provenance hook on in-memory stores,
 * the offline LLM, a file anchor in a temporary folder, and the GraphQL schema executed directly so that
 * tests read exactly what clients get.
 */
export const createProvenanceHarness = async () => {
  const dir = await makeDataDir();
  const clock = steppingClock();
  const provenance = await createEmbeddedProvenanceStore({ dataDir: null });
  const anchorPath = join(dir, "anchors.jsonl");
  const deps: ProvenanceDeps = {
    provenance,
    anchors: [createFileAnchor({ path: anchorPath, clock })],
    signer: ed25519FromSeed(HARNESS_SEED),
    originPrefix: HARNESS_ORIGIN,
    clock,
  };
  const { orchestrator, store } = await createTestOrchestrator(createOfflineLlm(), {
    clock,
    hooks: [createProvenanceHook(deps)],
  });
  const service = createProvenanceService({ ...deps, store });
  const schema = await buildVexSchema();
  // A fresh context per operation, as the server builds one per request (its loaders cache per request).
  const context = () =>
    ({
      tenantId: HARNESS_TENANT,
      orchestrator,
      store,
      baseMaxTokens: 400,
      provenance: service,
      loaders: createLoaders({ tenantId: HARNESS_TENANT, agents: store.agents, provenance: service }),
      // Provenance operations never touch evolution; the field is required by GraphQLContext.
    }) as unknown as GraphQLContext;

  /** Executes an operation against the schema; throws on any error. */
  const gql = async <R, V>(document: TypedDocumentNode<R, V>, variables: V): Promise<R> => {
    const result = await execute({
      schema,
      document,
      variableValues: variables as Record<string, unknown>,
      contextValue: context(),
    });
    if (result.errors?.length || !result.data)
      throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
    // Through JSON, as a client would see it.
    return JSON.parse(JSON.stringify(result.data)) as R;
  };

  /** Runs a query to completion and returns its id. */
  const run = async (query: string): Promise<string> => {
    const started = await orchestrator.start(HARNESS_TENANT, { query });
    await drain(await orchestrator.events(HARNESS_TENANT, started.id, 0));
    return started.id;
  };

  /** What client/verify.ts needs for a run, read through the generated documents. */
  const bundle = async (runId: string): Promise<RunProvenanceInput> => {
    const data = await gql(RunProvenanceDocument, { id: runId });
    const r = data.orchestration;
    if (r === null || r.ledgerProof === null) throw new Error(`run ${runId} has no provenance`);
    const anchored = await gql(LedgerConsistencyDocument, {
      firstSize: r.anchorReceipts[0]?.entry.treeSize ?? r.ledgerProof.leafIndex + 1,
      secondSize: r.ledgerProof.treeSize,
    });
    return { run: r, key: noteVerifierOf(data.ledgerPublicKey), anchored };
  };

  return {
    orchestrator,
    store,
    provenance,
    service,
    deps,
    anchorPath,
    gql,
    run,
    bundle,
    close: async () => {
      await orchestrator.shutdown(0);
      for (const a of deps.anchors) await a.close();
      await provenance.close();
      await store.close();
      await removeDir(dir);
    },
  };
};

export type ProvenanceHarness = Awaited<ReturnType<typeof createProvenanceHarness>>;
