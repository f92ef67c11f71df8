import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import {
  LedgerConsistencyDocument,
  type LedgerConsistencyQuery,
  RunProvenanceDocument,
} from "../client/generated/graphql.js";
import { type Check, noteVerifierOf, verifyRunProvenance } from "../client/verify.js";

/**
 * `node dist/scripts/verify.js <runId> [--url URL] [--key VERIFIER_KEY] [--api-key KEY]`
 *
 * Fetches a run's provenance through the GraphQL API and recomputes everything offline with
 * client/verify.ts: every leaf from the stored results, the Merkle root, every inclusion proof, each
 * agent's trace root from its transcript and the run's trace root, the ledger entry and its inclusion in
 * the signed checkpoint, the checkpoint signature, the anchor receipts and the consistency of the
 * anchored checkpoint with the latest one. Prints one line per check; exits 0 when all pass, 1 when any
 * fails, 2 on a usage or transport error.
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
  /** API key when --api-key is not given (the CLI passes VEX_API_KEY). */
  readonly apiKey?: string | undefined;
}

const post = async <R, V>(
  url: string,
  apiKey: string | undefined,
  doc: TypedDocumentNode<R, V>,
  variables: V,
) => {
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` }),
    },
    body: JSON.stringify({ query: print(doc), variables }),
  });
  const body = (await res.json()) as { data?: R; errors?: { message: string }[] };
  if (body.errors?.length || body.data === undefined) {
    throw new Error(`GraphQL error (HTTP ${res.status}): ${body.errors?.map((e) => e.message).join("; ")}`);
  }
  return body.data;
};

const line = (c: Check): string =>
  `${c.ok ? "PASS" : "FAIL"}  ${c.name}${c.detail && !c.ok ? ` — ${c.detail}` : ""}`;

/** Runs the verifier with CLI arguments; returns the exit code. */
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
  try {
    const data = await post(url, apiKey, RunProvenanceDocument, { id: runId });
    const run = data.orchestration;
    if (run === null) {
      io.out(`FAIL  orchestration ${runId} not found at ${url}`);
      return EXIT.failed;
    }
    const pinned = args.values.key;
    const key = noteVerifierOf({ verifierKey: pinned ?? data.ledgerPublicKey.verifierKey });
    io.out(`run ${run.id} at ${url}`);
    io.out(
      pinned === undefined
        ? `key ${data.ledgerPublicKey.verifierKey} (from the server; pin it with --key)`
        : `key ${pinned} (pinned)`,
    );
    let anchored: LedgerConsistencyQuery | undefined;
    const lp = run.ledgerProof;
    if (lp !== null) {
      const firstSize = run.anchorReceipts[0]?.entry.treeSize ?? lp.leafIndex + 1;
      anchored = await post(url, apiKey, LedgerConsistencyDocument, { firstSize, secondSize: lp.treeSize });
    }
    const checks = verifyRunProvenance({ run, key, ...(anchored ? { anchored } : {}) });
    for (const c of checks) io.out(line(c));
    const failed = checks.filter((c) => !c.ok).length;
    io.out(
      failed === 0 ? `all ${checks.length} checks passed` : `${failed} of ${checks.length} checks FAILED`,
    );
    return failed === 0 ? EXIT.ok : EXIT.failed;
  } catch (e) {
    io.out(`error: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT.error;
  }
};

const parse = (argv: readonly string[]) =>
  parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { url: { type: "string" }, key: { type: "string" }, "api-key": { type: "string" } },
  });

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  process.exitCode = await runVerify(process.argv.slice(2), {
    out: (l) => process.stdout.write(`${l}\n`),
    apiKey: process.env.VEX_API_KEY,
  });
}
