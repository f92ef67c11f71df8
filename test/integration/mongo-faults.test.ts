import { MongoClient, MongoNetworkError, MongoServerError } from "mongodb";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ensureIndexes } from "../../src/adapters/mongo/collections.js";
import { createMongoStore, toAppError } from "../../src/adapters/mongo/mongo-store.js";
import { AppError, ErrorCode } from "../../src/domain/errors.js";
import type { Store } from "../../src/ports/stores.js";
import { anAgent, anEvent, anId, aRun } from "../fixtures/builders.js";
import { startFerretDb } from "../support/mongo.js";

// Always a FerretDB of our own, even when MONGODB_URI is set: these tests stop and restart the server.
// No FerretDB fails the file: missing test infrastructure is never a skip.
const server = await startFerretDb();

/** The client's server selection timeout: how long a call waits for a server before giving up. */
const SELECTION_TIMEOUT_MS = 750;
/** The bound a call must fail within while the server is down: the selection timeout plus slack. */
const FAIL_WITHIN_MS = 5_000;
/** How long the same client may take to find the restarted server. */
const RECOVER_WITHIN_MS = 15_000;

const TENANT = "tenant-a";

describe("MongoDB store while the server goes away and comes back", () => {
  let client: MongoClient;
  let store: Store;

  beforeAll(async () => {
    client = new MongoClient(server.uri, {
      serverSelectionTimeoutMS: SELECTION_TIMEOUT_MS,
      connectTimeoutMS: SELECTION_TIMEOUT_MS,
    });
    const dbName = `vex_faults_${process.pid}`;
    await ensureIndexes(client.db(dbName));
    store = createMongoStore({ client, dbName, ownsClient: true });
  });
  let halted = false;
  afterEach(async () => {
    // A failed test must not leave the next one without a server.
    if (halted) await server.restart();
    halted = false;
  });
  afterAll(async () => {
    await store?.close();
    await server.stop();
  });

  const callsWhileDown = (): Record<string, () => Promise<unknown>> => {
    const runId = anId("run");
    return {
      ping: () => store.ping(),
      "runs.create": () => store.runs.create(aRun({ tenantId: TENANT })),
      "runs.get": () => store.runs.get(TENANT, runId),
      "runs.update": () => store.runs.update(TENANT, runId, { status: "RUNNING" }),
      "runs.list": () => store.runs.list(TENANT, { first: 5 }),
      "runs.findByStatus": () => store.runs.findByStatus(["RUNNING"]),
      "agents.getMany": () => store.agents.getMany(TENANT, ["agent-1", "agent-2"]),
      "agents.listByRun": () => store.agents.listByRun(TENANT, runId),
      "events.append": () => store.events.append([anEvent({ tenantId: TENANT, runId, seq: 1 })]),
      "events.list": () => store.events.list(TENANT, runId, 0),
      "events.lastSeq": () => store.events.lastSeq(TENANT, runId),
    };
  };

  it.each(["SIGKILL", "SIGTERM"] as const)(
    "rejects with STORE_UNAVAILABLE while stopped (%s) and recovers on the same client after a restart",
    async (signal) => {
      const run = aRun({ tenantId: TENANT });
      await store.runs.create(run);
      await store.ping();

      await server.halt(signal);
      halted = true;
      for (const [name, call] of Object.entries(callsWhileDown())) {
        const started = performance.now();
        const error = await call().then(
          () => new Error(`${name} resolved while the server was down`),
          (e: unknown) => e,
        );
        const elapsed = performance.now() - started;
        expect(error, name).toBeInstanceOf(AppError);
        expect((error as AppError).code, name).toBe("STORE_UNAVAILABLE");
        // Mostly a MongoError; a bare EPIPE Error when the driver wrote on the closing socket.
        expect((error as AppError).cause, name).toBeInstanceOf(Error);
        expect(elapsed, `${name} took ${Math.round(elapsed)} ms`).toBeLessThan(FAIL_WITHIN_MS);
      }

      await server.restart();
      halted = false;
      const deadline = Date.now() + RECOVER_WITHIN_MS;
      for (;;) {
        try {
          await store.ping();
          break;
        } catch (e) {
          if (Date.now() > deadline) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      // The data written before the crash is there, and every kind of call works again.
      expect(await store.runs.get(TENANT, run.id)).toStrictEqual(run);
      await store.runs.update(TENANT, run.id, { status: "RUNNING" });
      const agent = anAgent({ tenantId: TENANT, runId: run.id });
      await store.agents.create(agent);
      expect(await store.agents.getMany(TENANT, [agent.id])).toStrictEqual([agent]);
      await store.events.append([anEvent({ tenantId: TENANT, runId: run.id, seq: 1 })]);
      expect(await store.events.lastSeq(TENANT, run.id)).toBe(1);
      expect((await store.runs.findByStatus(["RUNNING"])).map((r) => r.id)).toContain(run.id);
    },
  );
});

describe("toAppError", () => {
  const epipe = Object.assign(new Error("This socket has been ended by the other party"), { code: "EPIPE" });
  it.each([
    [
      "a network error",
      new MongoNetworkError("connect ECONNREFUSED 127.0.0.1:1"),
      ErrorCode.StoreUnavailable,
    ],
    ["a bare socket error", epipe, ErrorCode.StoreUnavailable],
    [
      "a shutting-down server",
      new MongoServerError({ code: 91, errmsg: "shutdown in progress" }),
      "STORE_UNAVAILABLE",
    ],
    [
      "a duplicate key",
      new MongoServerError({ code: 11000, errmsg: "E11000 duplicate key" }),
      ErrorCode.Conflict,
    ],
    ["any other server error", new MongoServerError({ code: 2, errmsg: "bad value" }), ErrorCode.Internal],
    ["anything else", new TypeError("oops"), ErrorCode.Internal],
  ] as const)("maps %s to %s, keeping the cause", (_, error, code) => {
    const mapped = toAppError(error);
    expect(mapped.code).toBe(code);
    expect(mapped.cause).toBe(error);
  });

  it("passes an AppError through", () => {
    const error = new AppError(ErrorCode.BadUserInput, "bad cursor");
    expect(toAppError(error)).toBe(error);
  });
});
