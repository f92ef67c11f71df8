#!/usr/bin/env node
import { parseArgs } from "node:util";
import { openApiKeyStore } from "../app.js";
import { ConfigError, loadConfig } from "../config.js";
import { type CliIo, createKey, listKeys, revokeKey, UsageError } from "./keys.js";

const USAGE = `Usage:
  vex keys create --tenant <id> [--label <text>]   create a key (printed once)
  vex keys revoke <keyId>                          revoke a key
  vex keys list [--tenant <id>]                    list keys (never the keys themselves)

The key store is the server's: MONGODB_URI, or VEX_DATA_DIR (default ./data).`;

const io: CliIo = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) };

/** Runs one CLI invocation; returns the exit code. */
export const runCli = async (
  argv: readonly string[],
  env: Record<string, string | undefined>,
): Promise<number> => {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { tenant: { type: "string" }, label: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  const [group, command, arg] = positionals;
  if (values.help || group !== "keys" || command === undefined) {
    io.out(USAGE);
    return values.help ? 0 : 2;
  }
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

runCli(process.argv.slice(2), process.env).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UsageError || e instanceof ConfigError) {
      io.err(e.message);
      io.err(USAGE);
      process.exit(2);
    }
    io.err(`vex: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
