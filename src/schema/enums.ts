import { registerEnumType } from "type-graphql";
import { RUN_RESUME_REASONS, type RunResumeReason } from "../domain/events.js";
import {
  REVIEW_DECISIONS,
  REVIEW_ON_TIMEOUT,
  REVIEW_STATES,
  REVIEW_WHEN,
  type ReviewDecision,
  type ReviewOnTimeout,
  type ReviewState,
  type ReviewWhen,
} from "../domain/review.js";
import {
  AGENT_ROLES,
  AGENT_STATES,
  type AgentRole,
  type AgentState,
  CONSENSUS_PROTOCOLS,
  type ConsensusProtocol,
  type DebateVerdict,
  EVOLUTION_MODES,
  type EvolutionMode,
  type RoundOutcome,
  RUN_STATUSES,
  type RunStatus,
} from "../domain/run.js";

/** A GraphQL enum whose values are the domain's string literals, so no mapping is needed. */
export const enumOf = <T extends string>(values: readonly T[]) =>
  Object.fromEntries(values.map((v) => [v, v])) as { [K in T]: K };

export const RunStatusEnum = enumOf<RunStatus>(RUN_STATUSES);
export const AgentRoleEnum = enumOf<AgentRole>(AGENT_ROLES);
export const AgentStateEnum = enumOf<AgentState>(AGENT_STATES);
export const ConsensusProtocolEnum = enumOf<ConsensusProtocol>(CONSENSUS_PROTOCOLS);
export const EvolutionModeEnum = enumOf<EvolutionMode>(EVOLUTION_MODES);
export const RoundOutcomeEnum = enumOf<RoundOutcome>(["AGREED", "CHALLENGED", "UNVERIFIED"]);
export const DebateVerdictEnum = enumOf<DebateVerdict>(["UPHELD", "REJECTED", "UNDECIDED"]);
/** Whether a run's result is provable: its ledger entry and anchors recorded. */
export const PROVENANCE_STATUSES = ["PENDING", "RECORDED", "FAILED", "NONE"] as const;
export type ProvenanceStatus = (typeof PROVENANCE_STATUSES)[number];
export const ProvenanceStatusEnum = enumOf<ProvenanceStatus>(PROVENANCE_STATUSES);
export const RunResumeReasonEnum = enumOf<RunResumeReason>(RUN_RESUME_REASONS);
export const VoterEnum = enumOf<"AGENT" | "SHADOW" | "HUMAN">(["AGENT", "SHADOW", "HUMAN"]);
export const ReviewWhenEnum = enumOf<ReviewWhen>(REVIEW_WHEN);
export const ReviewOnTimeoutEnum = enumOf<ReviewOnTimeout>(REVIEW_ON_TIMEOUT);
export const ReviewDecisionEnum = enumOf<ReviewDecision>(REVIEW_DECISIONS);
export const ReviewStateEnum = enumOf<ReviewState>(REVIEW_STATES);

registerEnumType(RunStatusEnum, { name: "RunStatus", description: "Lifecycle of an orchestration run." });
registerEnumType(AgentRoleEnum, { name: "AgentRole" });
registerEnumType(ProvenanceStatusEnum, {
  name: "ProvenanceStatus",
  description:
    "PENDING: the run has not finished; RECORDED: its ledger entry and anchors are stored, so it is provable; FAILED: they could not be recorded (the run ended FAILED with PROVENANCE_FAILED, or an older run lacks its entry); NONE: the run ended without a result to prove.",
});
registerEnumType(RunResumeReasonEnum, {
  name: "RunResumeReason",
  description:
    "WORKER_LOST: the process executing the run died and another worker took it; WORKER_SHUTDOWN: its worker shut down and handed it back; SERVER_RESTART: the single server restarted; REQUESTED: a client resumed an INTERRUPTED run; REVIEW_DECIDED: a review it waited for was decided.",
});
registerEnumType(AgentStateEnum, { name: "AgentState" });
registerEnumType(ConsensusProtocolEnum, {
  name: "ConsensusProtocol",
  description: "How a debate's votes decide whether a claim is upheld.",
});
registerEnumType(EvolutionModeEnum, { name: "EvolutionMode" });
registerEnumType(RoundOutcomeEnum, {
  name: "RoundOutcome",
  description:
    "UNVERIFIED: the shadow's output could not be parsed, even after one repair; it never counts as agreement.",
});
registerEnumType(DebateVerdictEnum, { name: "DebateVerdict" });
registerEnumType(VoterEnum, { name: "Voter" });
registerEnumType(ReviewWhenEnum, { name: "ReviewWhen" });
registerEnumType(ReviewOnTimeoutEnum, { name: "ReviewOnTimeout" });
registerEnumType(ReviewDecisionEnum, { name: "ReviewDecision" });
registerEnumType(ReviewStateEnum, {
  name: "ReviewState",
  description: "PENDING: waiting for a person; DECIDED: a person decided; TIMED_OUT: its onTimeout applied.",
});
