import type { AgentView, TokenStream, TreeNode } from "../../../client/index.js";
import { Chip, Hash, Meter, RoleBadge } from "./common.js";

export interface AgentTreeProps {
  readonly roots: readonly TreeNode[];
  readonly tokens: Readonly<Record<string, TokenStream>>;
  /** Per agent id: whether its inclusion proof verified in the browser (after "verify"). */
  readonly proofs: ReadonlyMap<string, boolean>;
}

/** The run's agents as a tree: root, its children, deeper levels; each with state, debate, tokens. */
export const AgentTree = ({ roots, tokens, proofs }: AgentTreeProps) => {
  if (roots.length === 0) return <p className="muted">Waiting for the first agent…</p>;
  return (
    <ul className="tree" data-testid="agent-tree">
      {roots.map((node) => (
        <Branch key={node.agent.id} node={node} tokens={tokens} proofs={proofs} />
      ))}
    </ul>
  );
};

const Branch = ({
  node,
  tokens,
  proofs,
}: {
  node: TreeNode;
  tokens: Readonly<Record<string, TokenStream>>;
  proofs: ReadonlyMap<string, boolean>;
}) => (
  <li>
    <AgentCard agent={node.agent} stream={tokens[node.agent.id]} proof={proofs.get(node.agent.id)} />
    {node.children.length > 0 && (
      <ul>
        {node.children.map((child) => (
          <Branch key={child.agent.id} node={child} tokens={tokens} proofs={proofs} />
        ))}
      </ul>
    )}
  </li>
);

const ACTIVE = new Set(["RUNNING", "DEBATING", "PENDING"]);

const AgentCard = ({
  agent,
  stream,
  proof,
}: {
  agent: AgentView;
  stream: TokenStream | undefined;
  proof: boolean | undefined;
}) => {
  const active = ACTIVE.has(agent.state);
  return (
    <article
      className={`agent agent-${agent.state.toLowerCase()}`}
      data-testid="agent"
      data-agent-id={agent.id}
      data-role={agent.role}
      data-state={agent.state}
      data-depth={agent.depth}
    >
      <header className="agent-head">
        <RoleBadge role={agent.role} />
        <span className="agent-name" title={agent.id}>
          {agent.name}
        </span>
        <span className="muted small">depth {agent.depth}</span>
        <span className="spacer" />
        <Chip value={agent.state} testId="agent-state" />
      </header>
      {agent.rounds.length > 0 && (
        <div className="rounds" data-testid="debate-rounds">
          <span className="muted small">debate</span>
          {agent.rounds.map((r) => (
            <span
              key={r.round}
              className={`round round-${r.outcome.toLowerCase()}`}
              title={`Round ${r.round} (${r.outcome}) challenged: ${r.claim}${r.rebuttal ? `\n\nRevision: ${r.rebuttal}` : ""}`}
              data-testid="debate-round"
            >
              R{r.round} {r.outcome.toLowerCase()}
            </span>
          ))}
        </div>
      )}
      {active && stream && (
        <div className="tokens" data-testid="tokens">
          <span className="tokens-kind">{stream.kind.toLowerCase()}</span>
          {stream.text}
          <span className="caret" />
        </div>
      )}
      {agent.response !== null && (
        <>
          <div className="agent-stats">
            <span className="small muted">confidence</span>
            <Meter value={agent.confidence} label="confidence" />
            {agent.verified !== null && (
              <span
                className={agent.verified ? "badge badge-ok" : "badge badge-warn"}
                data-testid="verified-badge"
                title={
                  agent.verified
                    ? "Consensus upheld the claim in the debate"
                    : "Consensus did not uphold the claim (rejected or undecided)"
                }
              >
                {agent.verified ? "✓ verified" : "unverified"}
              </span>
            )}
            {proof !== undefined && (
              <span
                className={proof ? "badge badge-ok" : "badge badge-bad"}
                data-testid="proof-badge"
                title="RFC 9162 inclusion proof checked in this browser"
              >
                {proof ? "✓ in Merkle tree" : "✗ proof failed"}
              </span>
            )}
          </div>
          <p className="agent-response" data-testid="agent-response">
            {agent.response}
          </p>
          <div className="agent-foot small muted">
            leaf {agent.leafIndex} · <Hash value={agent.contextHash} short />
          </div>
        </>
      )}
      {agent.error && (
        <p className="agent-error small">
          {agent.error.code}: {agent.error.message}
        </p>
      )}
    </article>
  );
};
