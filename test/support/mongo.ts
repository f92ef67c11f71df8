import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { access, constants, mkdtemp, open, readFile, rm } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type CommandSucceededEvent, type Db, MongoClient } from "mongodb";
import { type Closable, type PerStore, perStore } from "./per-store.js";

/**
 * MongoDB for tests (docs/operations.md, Tests and CI): `MONGODB_URI` when set, otherwise a FerretDB built from the pin in
 * tools/ferretdb and started on a free loopback port with its own data dir, on its SQLite backend or
 * (VEX_TEST_FERRETDB_BACKEND=postgresql, or asked for by a test) on a fresh database of the local
 * PostgreSQL (VEX_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432), dropped at stop.
 */

/** The storage FerretDB runs on. */
export type FerretDbBackend = "sqlite" | "postgresql";

/** The backend of FerretDBs started without one named: VEX_TEST_FERRETDB_BACKEND, else SQLite. */
export const defaultFerretDbBackend = (): FerretDbBackend =>
  process.env.VEX_TEST_FERRETDB_BACKEND === "postgresql" ? "postgresql" : "sqlite";

/** The PostgreSQL server FerretDB's postgresql backend gets its databases on. */
const POSTGRES_URL = process.env.VEX_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432";

/** A MongoDB the tests may use; `stop()` releases whatever was started for it. */
export interface TestMongo {
  readonly uri: string;
  /** Where it came from: the environment, or a FerretDB this process started (and on what). */
  readonly source: "MONGODB_URI" | "ferretdb" | "ferretdb-postgresql";
  stop(): Promise<void>;
}

/** A FerretDB process this test owns, which can be taken down and brought back on the same port and data. */
export interface FerretDb extends TestMongo {
  readonly source: "ferretdb" | "ferretdb-postgresql";
  readonly port: number;
  readonly dataDir: string;
  /** Stops the process (SIGKILL by default: a crash) but keeps its port and data for `restart()`. */
  halt(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and data dir; resolves once it answers `ping`. */
  restart(): Promise<void>;
}

/** Thrown when no MongoDB can be had; the tests that need one fail (docs/operations.md, Tests and CI), in CI and elsewhere. */
export class MongoUnavailableError extends Error {
  override readonly name = "MongoUnavailableError";
}

/** How long FerretDB may take to answer its first ping. @default 30 s */
export const FERRETDB_START_TIMEOUT_MS = 30_000;
/** How long `stop()` waits after SIGTERM before SIGKILL. @default 5 s */
export const FERRETDB_STOP_GRACE_MS = 5_000;

/**
 * The repository root: two folders up from this file in the sources, three when compiled into dist/
 * (the benchmarks import it from there); the first of those that holds the FerretDB pin.
 */
const ROOT = [new URL("../../", import.meta.url), new URL("../../../", import.meta.url)]
  .map((u) => fileURLToPath(u))
  .find((dir) => existsSync(join(dir, "tools", "ferretdb", "go.mod"))) as string;
const TOOL_DIR = join(ROOT, "tools", "ferretdb");
const BUILD_SCRIPT = join(ROOT, "scripts", "build-ferretdb.sh");

/**
 * The MongoDB for a test file: `MONGODB_URI` if set, else a fresh FerretDB. Throws
 * MongoUnavailableError when neither can be had.
 */
export const startMongo = async (backend?: FerretDbBackend): Promise<TestMongo> => {
  const uri = process.env.MONGODB_URI;
  if (uri !== undefined && uri !== "") return { uri, source: "MONGODB_URI", stop: async () => {} };
  return startFerretDb(backend);
};

/** A database of its own on the test file's client. */
export interface TestDatabase {
  readonly client: MongoClient;
  readonly dbName: string;
  readonly db: Db;
}

/** Fresh databases on one MongoDB and one client: what a MongoDB contract-test file sets up. */
export interface MongoDatabases {
  /** Where the MongoDB came from, for test names. */
  readonly source: TestMongo["source"];
  /** The MongoDB's URI, for servers that connect on their own (see `withDatabase` in backends.ts). */
  readonly uri: string;
  readonly client: MongoClient;
  /** A database no other test (or earlier run against the same MONGODB_URI) uses. */
  create(): Promise<TestDatabase>;
  /** Drops a database made by `create`. */
  drop(database: Pick<TestDatabase, "dbName">): Promise<void>;
  /** Drops every database `create` made that is still there, closes the client, stops the MongoDB. */
  cleanup(): Promise<void>;
}

/**
 * `startMongo` and a connected client for a test file, handing out databases named
 * `<prefix>_<pid>_<time>_<n>`. Throws when no MongoDB can be had: missing test infrastructure fails
 * the run, it never skips. Register `cleanup` with `afterAll`.
 */
export const mongoDatabases = async (prefix: string, backend?: FerretDbBackend): Promise<MongoDatabases> => {
  const mongo = await startMongo(backend);
  // Command monitoring lets a test count the round trips an operation costs (commandStarted events).
  const client = new MongoClient(mongo.uri, { serverSelectionTimeoutMS: 10_000, monitorCommands: true });
  try {
    await client.connect();
  } catch (e) {
    await client.close().catch(() => {});
    await mongo.stop();
    throw e;
  }
  const live = new Set<string>();
  const started = Date.now().toString(36);
  let counter = 0;
  const drop = async ({ dbName }: Pick<TestDatabase, "dbName">) => {
    live.delete(dbName);
    await client.db(dbName).dropDatabase();
  };
  return {
    source: mongo.source,
    uri: mongo.uri,
    client,
    create: async () => {
      const dbName = `${prefix}_${process.pid}_${started}_${(++counter).toString().padStart(3, "0")}`;
      live.add(dbName);
      return { client, dbName, db: client.db(dbName) };
    },
    drop,
    cleanup: async () => {
      try {
        for (const dbName of [...live]) await drop({ dbName });
      } finally {
        await client.close();
        await mongo.stop();
      }
    },
  };
};

/**
 * `create`/`destroy` for a contract run on MongoDB: every store is opened (`open`) on a fresh database,
 * which `destroy` drops after closing the store.
 */
export const perDatabase = <S extends Closable>(
  databases: MongoDatabases,
  open: (database: TestDatabase) => S | Promise<S>,
): PerStore<TestDatabase, S> => perStore({ acquire: databases.create, release: databases.drop }, open);

/** Path of the FerretDB binary for the current pin, building it (once, under a lock) when missing. */
export const ensureFerretDbBinary = async (): Promise<string> => {
  const [mod, sum] = await Promise.all([
    readFile(join(TOOL_DIR, "go.mod")),
    readFile(join(TOOL_DIR, "go.sum")),
  ]);
  // Same key as scripts/build-ferretdb.sh: sha256 of go.mod followed by go.sum, 16 hex digits.
  const hash = createHash("sha256").update(mod).update(sum).digest("hex").slice(0, 16);
  const bin = join(ROOT, ".cache", "ferretdb", hash, "ferretdb");
  if (await isExecutable(bin)) return bin;
  const built = await new Promise<string>((resolve, reject) => {
    execFile("bash", [BUILD_SCRIPT], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        const tail = stderr.trim().split("\n").slice(-15).join("\n");
        reject(new MongoUnavailableError(`building FerretDB failed (${error.message}):\n${tail}`));
      } else {
        resolve(stdout.trim().split("\n").at(-1) ?? "");
      }
    });
  });
  if (built !== bin) throw new MongoUnavailableError(`build script produced ${built}, expected ${bin}`);
  return bin;
};

/**
 * Starts a FerretDB of our own on a free loopback port with a fresh temporary data dir and, on the
 * postgresql backend, a fresh PostgreSQL database.
 */
export const startFerretDb = async (
  backend: FerretDbBackend = defaultFerretDbBackend(),
): Promise<FerretDb> => {
  const bin = await ensureFerretDbBinary();
  const dataDir = await mkdtemp(join(tmpdir(), "vex-ferretdb-"));
  const port = await freePort();
  const uri = `mongodb://127.0.0.1:${port}/`;
  const pgDb = backend === "postgresql" ? await createPostgresDatabase() : null;
  const args = [
    ...(pgDb === null
      ? ["--handler=sqlite", `--sqlite-url=file:${dataDir}/`]
      : ["--handler=postgresql", `--postgresql-url=${POSTGRES_URL}/${pgDb}`]),
    `--listen-addr=127.0.0.1:${port}`,
    `--state-dir=${dataDir}`,
    "--telemetry=disable",
    // The debug/metrics HTTP listener (default 127.0.0.1:8088) would collide between instances.
    "--debug-addr=-",
    "--log-level=error",
  ];
  let child: ChildProcess | null = null;

  const launch = async (): Promise<void> => {
    const log = await open(join(dataDir, "ferretdb.log"), "a");
    let started: ChildProcess;
    try {
      started = spawn(bin, args, { cwd: dataDir, stdio: ["ignore", log.fd, log.fd] });
    } finally {
      await log.close();
    }
    child = started;
    const failed = new Promise<never>((_, reject) => {
      started.once("error", (e) =>
        reject(new MongoUnavailableError(`FerretDB could not be started: ${e.message}`)),
      );
      started.once("exit", (code, signal) =>
        reject(new MongoUnavailableError(`FerretDB exited during start (code ${code}, signal ${signal})`)),
      );
    });
    failed.catch(() => {});
    const giveUp = new AbortController();
    try {
      await Promise.race([waitForPing(uri, port, FERRETDB_START_TIMEOUT_MS, giveUp.signal), failed]);
    } catch (e) {
      await terminate(started, "SIGKILL");
      const logText = await readFile(join(dataDir, "ferretdb.log"), "utf8").catch(() => "");
      const tail = logText.trim().split("\n").slice(-20).join("\n");
      throw new MongoUnavailableError(`${e instanceof Error ? e.message : String(e)}\n${tail}`);
    } finally {
      giveUp.abort();
    }
  };

  const killOnExit = () => child?.kill("SIGKILL");
  process.once("exit", killOnExit);
  try {
    await launch();
  } catch (e) {
    process.off("exit", killOnExit);
    await rm(dataDir, { recursive: true, force: true });
    if (pgDb !== null) await dropPostgresDatabase(pgDb);
    throw e;
  }

  return {
    uri,
    source: pgDb === null ? "ferretdb" : "ferretdb-postgresql",
    port,
    dataDir,
    halt: async (signal = "SIGKILL") => {
      if (child !== null) await terminate(child, signal);
      child = null;
    },
    restart: async () => {
      if (child !== null) await terminate(child, "SIGTERM");
      await launch();
    },
    stop: async () => {
      if (child !== null) await terminate(child, "SIGTERM");
      child = null;
      process.off("exit", killOnExit);
      await rm(dataDir, { recursive: true, force: true });
      if (pgDb !== null) await dropPostgresDatabase(pgDb);
    },
  };
};

/** Runs one SQL statement on the PostgreSQL server's `postgres` database with the `psql` client. */
const psql = (sql: string): Promise<void> =>
  new Promise((resolve, reject) => {
    execFile(
      "psql",
      [`${POSTGRES_URL}/postgres`, "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
      (error, _out, stderr) => {
        if (error) reject(new MongoUnavailableError(`psql failed (${error.message}): ${stderr.trim()}`));
        else resolve();
      },
    );
  });

let pgCounter = 0;
/** A new, empty PostgreSQL database for one FerretDB, named so that parallel test files never share one. */
const createPostgresDatabase = async (): Promise<string> => {
  const name = `vex_ferretdb_${process.pid}_${Date.now().toString(36)}_${++pgCounter}`;
  await psql(`CREATE DATABASE ${name}`);
  return name;
};
const dropPostgresDatabase = (name: string): Promise<void> =>
  psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);

/** Sends `signal`, then SIGKILL after the grace period; resolves once the process has exited. */
const terminate = async (child: ChildProcess, signal: NodeJS.Signals): Promise<void> => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), FERRETDB_STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
};

const waitForPing = async (
  uri: string,
  port: number,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  // A cheap TCP probe first: a driver ping against a closed port costs a whole selection timeout.
  while (!(await accepts(port))) {
    if (signal.aborted) return;
    if (Date.now() > deadline)
      throw new MongoUnavailableError(`FerretDB did not listen within ${timeoutMs} ms`);
    await pause(20);
  }
  let last: unknown;
  while (Date.now() < deadline && !signal.aborted) {
    const client = new MongoClient(uri, { directConnection: true, serverSelectionTimeoutMS: 1_000 });
    try {
      await client.db("admin").command({ ping: 1 });
      return;
    } catch (e) {
      last = e;
      await pause(100);
    } finally {
      await client.close().catch(() => {});
    }
  }
  throw new MongoUnavailableError(
    `FerretDB did not answer ping within ${timeoutMs} ms: ${last instanceof Error ? last.message : String(last)}`,
  );
};

const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => {
      socket.destroy();
      resolve(false);
    });
  });

/** A TCP port free on loopback now (the OS picks it). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === "object") resolve(address.port);
        else reject(new Error("no port assigned"));
      });
    });
  });

const isExecutable = async (path: string): Promise<boolean> => {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * What the MongoDB contract suites run on: MONGODB_URI when set, else a FerretDB on each backend
 * (SQLite and PostgreSQL), so that both pass the same contract.
 */
export const mongoDatabasesOnEveryBackend = async (prefix: string): Promise<MongoDatabases[]> => {
  const uri = process.env.MONGODB_URI;
  if (uri !== undefined && uri !== "") return [await mongoDatabases(prefix)];
  const all: MongoDatabases[] = [];
  for (const backend of ["sqlite", "postgresql"] as const) all.push(await mongoDatabases(prefix, backend));
  return all;
};

/** Commands a client sent and documents it received (in cursor batches) while `work` ran. */
export const countCommands = async (client: MongoClient, work: () => Promise<unknown>) => {
  let commands = 0;
  let documents = 0;
  const started = () => commands++;
  const succeeded = (e: CommandSucceededEvent) => {
    const cursor = (e.reply as { cursor?: { firstBatch?: unknown[]; nextBatch?: unknown[] } }).cursor;
    documents += (cursor?.firstBatch?.length ?? 0) + (cursor?.nextBatch?.length ?? 0);
  };
  client.on("commandStarted", started);
  client.on("commandSucceeded", succeeded);
  try {
    await work();
  } finally {
    client.off("commandStarted", started);
    client.off("commandSucceeded", succeeded);
  }
  return { commands, documents };
};
