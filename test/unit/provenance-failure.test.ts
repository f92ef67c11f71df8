import { join } from "node:path";
import { execute } from "graphql";
import { describe, expect, it } from "vitest";
import { OrchestrationDocument, type OrchestrationQuery } from "../../client/generated/graphql.js";
import { createFileAnchor } from "../../src/adapters/anchor/file-anchor.js";
import { createEmbeddedProvenanceStore } from "../../src/adapters/embedded/provenance-store.js";
import { createOfflineLlm } from "../../src/adapters/offline-llm/offline-llm.js";
import { ed25519FromSeed } from "../../src/domain/ed25519.js";
import { AppError, ErrorCode } from "../../src/domain/errors.js";
import type { RunEvent } from "../../src/domain/events.js";
import { createProvenanceHook } from "../../src/orchestrator/provenance-hook.js";
import { createProvenanceService } from "../../src/orchestrator/provenance-service.js";
import type { AnchorBackend } from "../../src/ports/anchor.js";
import type { ProvenanceStore } from "../../src/ports/provenance-store.js";
import type { GraphQLContext } from "../../src/resolvers/context.type.js";
import { createLoaders } from "../../src/resolvers/loaders.js";
import { buildVexSchema } from "../../src/server/schema.js";
import { createTestOrchestrator, drain, steppingClock } from "../support/orchestrator.js";
import { makeDataDir } from "../support/server.js";

const TENANT = "tenant-a";
const unavailable = () => new AppError(ErrorCode.StoreUnavailable, "The store is unreachable.");

/** Fails the first `times` calls of `fn` with `error()`, then calls through. */
const failingFirst = <A extends unknown[], R>(
  times: number,
  error: () => Error,
  fn: (...a: A) => Promise<R>,
) => {
  let left = times;
  return async (...args: A): Promise<R> => {
    if (left-- > 0) throw error();
    return fn(...args);
  };
};

/** A run with provenance on stores a test can break, read back through the GraphQL schema. */
const harness = async (options: {
  breakLedger?: (ledger: ProvenanceStore["ledger"]) => ProvenanceStore["ledger"];
  breakAnchor?: (anchor: AnchorBackend) => AnchorBackend;
}) => {
  const clock = steppingClock();
  const stored = await createEmbeddedProvenanceStore({ dataDir: null });
  const provenance: ProvenanceStore = {
    ...stored,
    ledger: options.breakLedger?.(stored.ledger) ?? stored.ledger,
  };
  const file = createFileAnchor({ path: join(await makeDataDir(), "anchors.jsonl"), clock });
  const deps = {
    provenance,
    anchors: [options.breakAnchor?.(file) ?? file],
    signer: ed25519FromSeed(new Uint8Array(32).fill(7)),
    originPrefix: "vex.test/ledger",
    clock,
  };
  const errors: unknown[] = [];
  const hook = createProvenanceHook(deps);
  const { orchestrator, store } = await createTestOrchestrator(createOfflineLlm(), {
    clock,
    hooks: [{ ...hook, failureCode: ErrorCode.ProvenanceFailed, retryable: true }],
    onBackgroundError: (e) => errors.push(e),
  });
  const service = createProvenanceService({ ...deps, store });
  const schema = await buildVexSchema();
  const run = async () => {
    const started = await orchestrator.start(TENANT, { query: "q" });
    const events = await drain(await orchestrator.events(TENANT, started.id, 0));
    const read = await execute({
      schema,
      document: OrchestrationDocument,
      variableValues: { id: started.id },
      contextValue: {
        tenantId: TENANT,
        orchestrator,
        store,
        baseMaxTokens: 400,
        provenance: service,
        loaders: createLoaders({ tenantId: TENANT, agents: store.agents, provenance: service }),
      } as unknown as GraphQLContext,
    });
    expect(read.errors).toBeUndefined();
    const data = JSON.parse(JSON.stringify(read.data)) as OrchestrationQuery;
    return { id: started.id, events, orchestration: data.orchestration, errors };
  };
  /** The hook called again for a finished run, as a worker that resumes it after its own died would. */
  const callHookAgain = async (id: string) => {
    const finished = await store.runs.get(TENANT, id);
    if (finished === null) throw new Error(`run ${id} is not stored`);
    const emitted: unknown[] = [];
    await hook.afterRun?.({
      run: finished,
      agents: await store.agents.listByRun(TENANT, id),
      emit: async (event) => {
        emitted.push(event);
        return event as unknown as RunEvent;
      },
      signal: new AbortController().signal,
    });
    return emitted;
  };
  return { run, provenance, callHookAgain };
};

describe("a run's ledger entry and anchor are part of its success", () => {
  it("retries the ledger while its store is unavailable, then succeeds, RECORDED", async () => {
    const h = await harness({
      breakLedger: (ledger) => ({ ...ledger, append: failingFirst(2, unavailable, ledger.append) }),
    });
    const { id, events, orchestration } = await h.run();
    expect(events.at(-1)).toMatchObject({ type: "RunFinished", status: "SUCCEEDED" });
    expect(events.filter((e) => e.type === "AnchorRecorded")).toHaveLength(1);
    expect(orchestration).toMatchObject({ status: "SUCCEEDED", provenanceStatus: "RECORDED" });
    expect(await h.provenance.ledger.findByRun(TENANT, id)).not.toBeNull();
  });

  it("retries an anchor that is unavailable, then succeeds with its receipt", async () => {
    const h = await harness({
      breakAnchor: (anchor) => ({ ...anchor, anchor: failingFirst(1, unavailable, anchor.anchor) }),
    });
    const { events, orchestration } = await h.run();
    expect(events.at(-1)).toMatchObject({ type: "RunFinished", status: "SUCCEEDED" });
    expect(events.filter((e) => e.type === "AnchorRecorded")).toHaveLength(1);
    expect(orchestration?.provenanceStatus).toBe("RECORDED");
  });

  it("anchors a run once: called again for a run it recorded, the hook adds no receipt and no anchor", async () => {
    const h = await harness({});
    const { id } = await h.run();
    const before = await h.provenance.receipts.listByRun(TENANT, id);
    expect(before).toHaveLength(1);
    expect(await h.callHookAgain(id)).toEqual([]);
    expect(await h.provenance.receipts.listByRun(TENANT, id)).toStrictEqual(before);
  });

  it("fails the run with PROVENANCE_FAILED when the anchor cannot record it, keeping the agents' results", async () => {
    const h = await harness({
      breakAnchor: (anchor) => ({
        ...anchor,
        anchor: async () => {
          throw new Error("disk full");
        },
      }),
    });
    const { events, orchestration, errors } = await h.run();
    expect(events.at(-1)).toMatchObject({
      type: "RunFinished",
      status: "FAILED",
      error: { code: "PROVENANCE_FAILED" },
    });
    expect(orchestration).toMatchObject({
      status: "FAILED",
      provenanceStatus: "FAILED",
      error: { code: "PROVENANCE_FAILED" },
    });
    expect(orchestration?.agents.every((a) => a.state === "COMPLETED" && a.result !== null)).toBe(true);
    expect(errors).toHaveLength(1);
  });

  it("fails the run with PROVENANCE_FAILED when the ledger refuses it for good", async () => {
    const h = await harness({
      breakLedger: (ledger) => ({
        ...ledger,
        append: async () => {
          throw new AppError(ErrorCode.Internal, "corrupt ledger");
        },
      }),
    });
    const { orchestration } = await h.run();
    expect(orchestration).toMatchObject({ status: "FAILED", provenanceStatus: "FAILED" });
  });
});
