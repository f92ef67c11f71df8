import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { verificationLines } from "../client/cli/verify.js";
import { createVexClient, VexError, verifyRun } from "../client/index.js";

/**
 * `node dist/scripts/verify.js <runId> [--url URL] [--key VERIFIER_KEY] [--api-key KEY]`
 *
 * A wrapper of the client's verifier (`verifyRun`, the same as `vex verify` and the web view's): fetches
 * a run's provenance and recomputes everything offline. Prints one line per check; exits 0 when all
 * pass, 1 when any fails, 2 on a usage or transport error.
 */

/** The server's default endpoint. */
export const DEFAULT_URL = "http://127.0.0.1:4000/graphql";
/** Exit codes. */
export const EXIT = { ok: 0, failed: 1, error: 2 } as const;

const USAGE = "usage: verify <runId> [--url URL] [--key VERIFIER_KEY] [--api-key KEY]";

/** Where {@link runVerify} writes, and the API key it falls back to. */
export interface VerifyIo {
  /** Writes one line of output. */
  readonly out: (line: string) => void;
  /** API key when --api-key is not given (VEX_API_KEY). */
  readonly apiKey?: string | undefined;
}

const parse = (argv: readonly string[]) =>
  parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { url: { type: "string" }, key: { type: "string" }, "api-key": { type: "string" } },
  });

/** Runs the verifier with command-line arguments; returns the exit code. */
export const runVerify = async (argv: readonly string[], io: VerifyIo): Promise<number> => {
  let args: ReturnType<typeof parse>;
  try {
    args = parse(argv);
  } catch (e) {
    io.out(`${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
    return EXIT.error;
  }
  const runId = args.positionals[0];
  if (runId === undefined || args.positionals.length > 1) {
    io.out(USAGE);
    return EXIT.error;
  }
  const url = args.values.url ?? DEFAULT_URL;
  const apiKey = args.values["api-key"] ?? io.apiKey;
  const client = createVexClient({ url, ...(apiKey === undefined ? {} : { apiKey }) });
  try {
    const verification = await verifyRun(client, runId, { verifierKey: args.values.key });
    for (const line of verificationLines(verification, url)) io.out(line);
    return verification.ok ? EXIT.ok : EXIT.failed;
  } catch (e) {
    if (e instanceof VexError && e.code === "NOT_FOUND") {
      io.out(`FAIL  orchestration ${runId} not found at ${url}`);
      return EXIT.failed;
    }
    io.out(`error: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT.error;
  } finally {
    await client.close();
  }
};

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  process.exitCode = await runVerify(process.argv.slice(2), {
    out: (l) => process.stdout.write(`${l}\n`),
    apiKey: process.env.VEX_API_KEY,
  });
}
