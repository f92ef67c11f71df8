import { registerEnumType } from "type-graphql";
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
export const VoterEnum = enumOf<"AGENT" | "SHADOW">(["AGENT", "SHADOW"]);

registerEnumType(RunStatusEnum, { name: "RunStatus", description: "Lifecycle of an orchestration run." });
registerEnumType(AgentRoleEnum, { name: "AgentRole" });
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
