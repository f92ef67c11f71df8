import type { RunVerification } from "../../../client/index.js";

/** The outcome of the client's verifier: one row per agent, then the run's own checks. */
export const VerificationResult = ({ result }: { result: RunVerification }) => {
  const rows = new Map<
    string,
    { role: string; leaf?: boolean; debate?: boolean; inclusion?: boolean; trace?: boolean }
  >();
  for (const c of result.checks) {
    if (!c.agentId) continue;
    // Agent checks are named "agent <leaf> (<ROLE> <id>): …".
    const row = rows.get(c.agentId) ?? { role: /^agent \d+ \((\S+)/.exec(c.name)?.[1] ?? "" };
    if (c.kind === "leaf") row.leaf = c.ok;
    if (c.kind === "debate") row.debate = c.ok;
    if (c.kind === "inclusion") row.inclusion = c.ok;
    if (c.kind === "trace") row.trace = c.ok;
    rows.set(c.agentId, row);
  }
  const mark = (ok: boolean | undefined) =>
    ok === undefined ? "—" : <span className={ok ? "ok" : "bad"}>{ok ? "✓" : "✗"}</span>;
  const { passed, total } = result.inclusionProofs;
  return (
    <div className="verification" data-testid="verification" data-ok={result.ok}>
      <div className={result.ok ? "verdict verdict-ok" : "verdict verdict-bad"} data-testid="verify-summary">
        {result.ok ? "✓" : "✗"} {passed}/{total} inclusion proofs verified
        {result.ok ? " · every hash recomputed, every signature checked" : " · see the failing checks"}
      </div>
      <div className="small muted" data-testid="verifier-key">
        ledger key <code>{result.verifierKey}</code> (from the server; pin it with{" "}
        <code>vex verify --verifier-key</code>)
      </div>
      <table className="checks">
        <thead>
          <tr>
            <th>leaf</th>
            <th>agent</th>
            <th title="result recomputes to contextHash">hash</th>
            <th title="the verified flag follows from the debate">debate</th>
            <th title="RFC 9162 inclusion proof reaches the Merkle root">proof</th>
            <th title="transcript recomputes to traceRoot">trace</th>
          </tr>
        </thead>
        <tbody>
          {[...rows.entries()].map(([agentId, row], i) => (
            <tr key={agentId} data-testid="proof-row" data-ok={row.inclusion === true}>
              <td>{i}</td>
              <td title={agentId}>{row.role}</td>
              <td>{mark(row.leaf)}</td>
              <td>{mark(row.debate)}</td>
              <td>{mark(row.inclusion)}</td>
              <td>{mark(row.trace)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <ul className="plain checklist">
        {result.checks
          .filter((c) => !c.agentId)
          .map((c) => (
            <li key={c.name} data-testid="run-check" data-ok={c.ok}>
              <span className={c.ok ? "ok" : "bad"}>{c.ok ? "✓" : "✗"}</span> {c.name}
              {c.detail && <span className="muted"> · {c.detail}</span>}
            </li>
          ))}
      </ul>
    </div>
  );
};
