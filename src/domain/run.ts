import {
  DEFAULT_BASE_MAX_TOKENS,
  type Genome,
  LLM_PARAM_NAMES,
  type LlmParams,
  type Traits,
  toLlmParams,
} from "./genome.js";
import type { ReviewPolicy } from "./review.js";
import type { TranscriptEntry } from "./transcript.js";
import type { UsageSummary } from "./usage.js";

export const RUN_STATUSES = [
  "PENDING",
  "RUNNING",
  "SUCCEEDED",
  "FAILED",
  "CANCELLED",
  "INTERRUPTED",
  /** Parked until a person decides a review (docs/reviews-and-budgets.md); holds no worker meanwhile. */
  "AWAITING_REVIEW",
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const TERMINAL_STATUSES: ReadonlySet<RunStatus> = new Set([
  "SUCCEEDED",
  "FAILED",
  "CANCELLED",
  "INTERRUPTED",
]);
export const isTerminal = (s: RunStatus): boolean => TERMINAL_STATUSES.has(s);

export const AGENT_ROLES = ["ROOT", "RESEARCHER", "CRITIC"] as const;
export type AgentRole = (typeof AGENT_ROLES)[number];

export const AGENT_STATES = [
  "PENDING",
  "RUNNING",
  "DEBATING",
  "COMPLETED",
  "FAILED",
  "CANCELLED",
  "INTERRUPTED",
  /** Debated and stored, waiting for a person's review before its parent uses it. */
  "AWAITING_REVIEW",
] as const;
export type AgentState = (typeof AGENT_STATES)[number];
/** An agent in one of these states has not settled: its run may still change it. */
export const IN_PROGRESS_AGENT_STATES: ReadonlySet<AgentState> = new Set([
  "PENDING",
  "RUNNING",
  "DEBATING",
  "AWAITING_REVIEW",
]);
export const isInProgress = (s: AgentState): boolean => IN_PROGRESS_AGENT_STATES.has(s);

export const CONSENSUS_PROTOCOLS = [
  "MAJORITY",
  "SUPER_MAJORITY",
  "UNANIMOUS",
  "WEIGHTED_CONFIDENCE",
] as const;
export type ConsensusProtocol = (typeof CONSENSUS_PROTOCOLS)[number];

export const EVOLUTION_MODES = ["OFF", "GENETIC", "SELF_CORRECTING"] as const;
export type EvolutionMode = (typeof EVOLUTION_MODES)[number];

/** The validated shape of a run, fixed when it starts. */
export interface RunConfig {
  readonly maxDepth: number;
  readonly agentsPerLevel: number;
  readonly maxDebateRounds: number;
  readonly consensus: ConsensusProtocol;
  readonly evolution: EvolutionMode;
  /** Seed for this run's randomness (evolution); drawn when the caller gives none. */
  readonly seed: number;
  /** The run's token budget; absent: none (the tenant's daily quota still applies). */
  readonly budget?: { readonly maxTotalTokens: number };
  /** When answers wait for a person; absent (runs before reviews existed) means NEVER. */
  readonly review?: ReviewPolicy;
}

export interface RunError {
  readonly code: string;
  readonly message: string;
}

export interface TokenUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
  /**
   * Hidden reasoning tokens of reasoning models, already counted in completionTokens. Absent in
   * usage stored before it was counted (read as 0).
   */
  readonly reasoningTokens?: number;
}
export const NO_TOKENS: TokenUsage = {
  promptTokens: 0,
  completionTokens: 0,
  totalTokens: 0,
  reasoningTokens: 0,
};
export const addUsage = (a: TokenUsage, b: TokenUsage): TokenUsage => ({
  promptTokens: a.promptTokens + b.promptTokens,
  completionTokens: a.completionTokens + b.completionTokens,
  totalTokens: a.totalTokens + b.totalTokens,
  reasoningTokens: (a.reasoningTokens ?? 0) + (b.reasoningTokens ?? 0),
});

export interface Run {
  readonly id: string;
  readonly tenantId: string;
  readonly query: string;
  readonly config: RunConfig;
  readonly status: RunStatus;
  readonly response: string | null;
  readonly confidence: number | null;
  readonly merkleRoot: string | null;
  readonly traceRoot: string | null;
  /** The deepest level that produced a result, counted from 1 (root only = 1). */
  readonly levelsProcessed: number;
  /** Agent ids in Merkle leaf order (breadth-first spawn order). */
  readonly leafOrder: readonly string[];
  readonly model: string | null;
  readonly tokensUsed: TokenUsage;
  /**
   * The run's usage per model and per role, from its agents' transcripts, stored when it ends.
   * Absent while it runs and in runs stored before it was recorded (computed from the agents then).
   */
  readonly usage?: UsageSummary | null;
  readonly error: RunError | null;
  /** The worker that last took the run (for operators; the run queue's lock is the lease). */
  readonly ownerId: string | null;
  /** When that worker took the run. */
  readonly heartbeatAt: Date | null;
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  readonly completedAt: Date | null;
}

/** A shadow's verdict on one claim. `null` in a round means the shadow's output could not be parsed. */
export interface ShadowVerdict {
  readonly isChallenge: boolean;
  readonly confidence: number;
  readonly reasoning: string;
  readonly suggestedRevision: string | null;
}

export type RoundOutcome = "AGREED" | "CHALLENGED" | "UNVERIFIED";

export interface DebateRound {
  readonly round: number;
  /** The claim this round challenged: the answer in round 1, the latest revision after. */
  readonly claim: string;
  readonly outcome: RoundOutcome;
  readonly verdict: ShadowVerdict | null;
  /** The raw shadow output when it could not be parsed, kept for audit. */
  readonly rawChallenge: string | null;
  /** The agent's revision when challenged; it becomes the next round's claim. */
  readonly rebuttal: string | null;
}

export interface Vote {
  /** HUMAN: a person's review decision (see HumanVote, which adds who decided and how). */
  readonly voter: "AGENT" | "SHADOW" | "HUMAN";
  readonly agrees: boolean;
  readonly weight: number;
}

export type DebateVerdict = "UPHELD" | "REJECTED" | "UNDECIDED";

export interface Debate {
  readonly protocol: ConsensusProtocol;
  readonly rounds: readonly DebateRound[];
  readonly votes: readonly Vote[];
  readonly consensusReached: boolean;
  readonly verdict: DebateVerdict;
}

export interface AgentResult {
  /** The final claim after the debate. */
  readonly response: string;
  readonly confidence: number;
  /** True only when consensus was reached in favour of the claim. */
  readonly verified: boolean;
  readonly debate: Debate;
  /** Merkle leaf hash (hex) of this result: SHA-256(0x00 ‖ canonical JSON of the leaf fields). */
  readonly contextHash: string;
  readonly leafIndex: number;
  readonly traceRoot: string | null;
  readonly tokensUsed: TokenUsage;
  readonly latencyMs: number;
}

export interface Agent {
  readonly id: string;
  readonly tenantId: string;
  readonly runId: string;
  readonly role: AgentRole;
  readonly name: string;
  readonly depth: number;
  readonly parentId: string | null;
  /** Breadth-first spawn position in the run's tree; also the Merkle leaf index. */
  readonly ordinal: number;
  readonly genome: Genome;
  /**
   * The parameters the agent's LLM requests carried (after any the model refused were dropped).
   * Absent in agents stored before they were recorded; see agentLlmParams.
   */
  readonly llmParams?: LlmParams;
  readonly state: AgentState;
  readonly fitness: number | null;
  readonly result: AgentResult | null;
  readonly error: RunError | null;
  /** Every LLM exchange of the agent, debate calls included; its Merkle root is result.traceRoot. */
  readonly transcript: readonly TranscriptEntry[];
  readonly createdAt: Date;
  readonly completedAt: Date | null;
}

export type { Genome, Traits };

/** What an agent is from its start on, and never changes: who it is, where it sits, what it was sent. */
export type AgentIdentity = Pick<
  Agent,
  | "id"
  | "tenantId"
  | "runId"
  | "role"
  | "name"
  | "depth"
  | "parentId"
  | "ordinal"
  | "genome"
  | "llmParams"
  | "createdAt"
>;

/**
 * An agent's identity, its fields read one by one: an agent read from a store may decode its
 * transcript when that is read, which a spread would do.
 */
export const identityOf = (agent: AgentIdentity): AgentIdentity => ({
  id: agent.id,
  tenantId: agent.tenantId,
  runId: agent.runId,
  role: agent.role,
  name: agent.name,
  depth: agent.depth,
  parentId: agent.parentId,
  ordinal: agent.ordinal,
  genome: agent.genome,
  ...(agent.llmParams ? { llmParams: agent.llmParams } : {}),
  createdAt: agent.createdAt,
});

/**
 * The agent as it starts: its identity, RUNNING, with nothing done yet. An agent starts as this, and
 * an AgentStarted event, which names its agent, shows it as this whatever the agent became since.
 */
export const agentAsStarted = (agent: AgentIdentity): Agent => ({
  ...identityOf(agent),
  state: "RUNNING",
  fitness: null,
  result: null,
  error: null,
  transcript: [],
  completedAt: null,
});

/**
 * The parameters an agent's requests carried: the stored ones; for an agent stored before they were
 * recorded, those of its first recorded exchange; for one without exchanges, the classic mapping
 * with the default base (DEFAULT_BASE_MAX_TOKENS), which is what such agents were sent unless the
 * deployment had changed VEX_LLM_BASE_MAX_TOKENS.
 */
export const agentLlmParams = (agent: Pick<Agent, "llmParams" | "transcript" | "genome">): LlmParams => {
  if (agent.llmParams) return agent.llmParams;
  const recorded = agent.transcript[0]?.request.params;
  if (recorded && typeof recorded.maxTokens === "number") {
    const out: Record<string, unknown> = {};
    for (const name of LLM_PARAM_NAMES) if (recorded[name] !== undefined) out[name] = recorded[name];
    return out as unknown as LlmParams;
  }
  return toLlmParams(agent.genome.traits, DEFAULT_BASE_MAX_TOKENS);
};

/** Agents in a run's complete tree: Σ_{d < maxDepth} agentsPerLevel^d (root + children + …). */
export const agentCount = (config: Pick<RunConfig, "maxDepth" | "agentsPerLevel">): number => {
  let total = 0;
  for (let d = 0, level = 1; d < config.maxDepth; d++, level *= config.agentsPerLevel) total += level;
  return total;
};
