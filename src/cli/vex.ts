#!/usr/bin/env node
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../config.js";
import { type CliIo, createKey, listKeys, revokeKey, UsageError } from "./keys.js";

const KEYS_USAGE = `  vex worker                                       run a worker: executes queued runs (needs REDIS_URL;
                                                   same variables as the server, VEX_ROLE=worker)
  vex keys create --tenant <id> [--label <text>]   create a key (printed once)
  vex keys revoke <keyId>                          revoke a key
  vex keys list [--tenant <id>]                    list keys (never the keys themselves)

  The key store is the server's: MONGODB_URI, or VEX_DATA_DIR (default ./data).`;

/** The client commands' help, loaded with them (they live in client/cli and talk to a server over GraphQL). */
const clientCli = () => import("../../client/cli/main.js");

const usage = async () => `Usage:\n${KEYS_USAGE}\n\n${(await clientCli()).CLIENT_USAGE}`;

const io: CliIo = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) };

/** `vex keys …`: server-side key management on the server's own store. Returns the exit code. */
const runKeysCli = async (
  argv: readonly string[],
  env: Record<string, string | undefined>,
): Promise<number> => {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { tenant: { type: "string" }, label: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  const [, command, arg] = positionals;
  if (values.help || command === undefined) {
    io.out(`Usage:\n${KEYS_USAGE}`);
    return values.help ? 0 : 2;
  }
  // Loaded here so that the client commands never load the server.
  const { openApiKeyStore } = await import("../app.js");
  const keys = await openApiKeyStore(loadConfig(env));
  try {
    switch (command) {
      case "create":
        if (!values.tenant) throw new UsageError("keys create needs --tenant <id>.");
        await createKey(keys, io, values.tenant, values.label ?? null);
        return 0;
      case "revoke":
        if (!arg) throw new UsageError("keys revoke needs a key id.");
        await revokeKey(keys, io, arg);
        return 0;
      case "list":
        await listKeys(keys, io, values.tenant);
        return 0;
      default:
        throw new UsageError(`Unknown command "keys ${command}".`);
    }
  } finally {
    await keys.close();
  }
};

/** Runs one CLI invocation; returns the exit code. */
export const runCli = async (
  argv: readonly string[],
  env: Record<string, string | undefined>,
  signal?: AbortSignal,
): Promise<number> => {
  const [group] = argv;
  if (group === "keys") return runKeysCli(argv, env);
  if (group === "worker") {
    // Loaded here so that the client commands never load the server.
    const { serve, failedToStart } = await import("../serve.js");
    await serve({ ...env, VEX_ROLE: "worker" }).catch(failedToStart);
    // Serves until a signal stops it (serve exits the process then).
    return new Promise<number>(() => {});
  }
  const client = await clientCli();
  if (!client.isClientCommand(group)) {
    const help = group === "help" || group === "--help" || group === "-h";
    if (!help && group !== undefined) io.err(`Unknown command "${group}".`);
    io.out(await usage());
    return help ? 0 : 2;
  }
  try {
    return await client.runClientCli(
      argv,
      env,
      {
        write: (t) => process.stdout.write(t),
        out: io.out,
        err: io.err,
        isTTY: process.stdout.isTTY === true,
        columns: process.stdout.columns,
      },
      signal ? { signal } : {},
    );
  } catch (e) {
    const { code, message, usage: showUsage } = client.describeClientError(e, env);
    io.err(`vex: ${message}`);
    if (showUsage) io.err(`Usage:\n${client.CLIENT_USAGE}`);
    return code;
  }
};

// A closed pipe (`vex watch … --json | head`) is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0);
    throw e;
  });
}

// Ctrl-C while following a run (run, watch) stops watching — the run continues on the server — and
// prints how to resume; a second Ctrl-C exits at once. Other commands keep Node's default.
const interrupt = new AbortController();
if (["run", "watch"].includes(process.argv[2] ?? "")) {
  process.once("SIGINT", () => {
    interrupt.abort();
    process.once("SIGINT", () => process.exit(130));
  });
}

runCli(process.argv.slice(2), process.env, interrupt.signal).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UsageError || e instanceof ConfigError) {
      io.err(e.message);
      io.err(`Usage:\n${KEYS_USAGE}`);
      process.exit(2);
    }
    io.err(`vex: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
