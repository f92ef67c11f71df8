import type { Check, RunVerification } from "../verify.js";

/** One line per check: PASS/FAIL, its name, and why it failed. */
export const checkLine = (c: Check): string =>
  `${c.ok ? "PASS" : "FAIL"}  ${c.name}${c.detail && !c.ok ? ` — ${c.detail}` : ""}`;

/** What `vex verify` prints for a verification: the run, the key, one line per check, the verdict. */
export const verificationLines = (v: RunVerification, url: string): string[] => [
  `run ${v.runId} at ${url}`,
  v.keyPinned
    ? `key ${v.verifierKey} (pinned)`
    : `key ${v.verifierKey} (from the server; pin it with --verifier-key)`,
  ...v.checks.map(checkLine),
  v.ok
    ? `all ${v.checks.length} checks passed`
    : `${v.checks.filter((c) => !c.ok).length} of ${v.checks.length} checks FAILED`,
];
