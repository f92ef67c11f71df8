import { canonicalBytes } from "./canonical.js";
import type { Traits } from "./genome.js";
import { leafHash } from "./merkle.js";
import type { AgentRole, Debate } from "./run.js";

/** What an agent result commits to in the run's Merkle tree (docs/provenance.md). */
export interface AgentLeafInput {
  readonly runId: string;
  readonly agentId: string;
  readonly role: AgentRole;
  readonly depth: number;
  readonly response: string;
  readonly confidence: number;
  readonly debate: Debate;
  readonly traits: Traits;
}

/** The leaf data: RFC 8785 canonical JSON (UTF-8) of exactly the {@link AgentLeafInput} fields. */
export function agentLeafData(input: AgentLeafInput): Uint8Array {
  const { runId, agentId, role, depth, response, confidence, debate, traits } = input;
  return canonicalBytes({ runId, agentId, role, depth, response, confidence, debate, traits });
}

/** The agent result's RFC 6962 leaf hash, SHA-256(0x00 ‖ leaf data). */
export function agentLeafHash(input: AgentLeafInput): Uint8Array {
  return leafHash(agentLeafData(input));
}
