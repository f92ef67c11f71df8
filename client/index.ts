/**
 * The VEX client: the one way every consumer (the web view, the `vex` CLI, scripts, your code) talks to a
 * VEX server. Browser-safe: it imports nothing of Node and no server code, only the shared core of pure
 * functions in src/domain (hashing, Merkle proofs, checkpoints, signed notes, the API's codes and
 * run-shape defaults). Everything public is listed here; the other modules of client/ are internal.
 */

// The API's vocabulary and the run shape it accepts (defaults and bounds), from the shared core
export {
  AGENT_ROLES,
  agentCount,
  CONSENSUS_PROTOCOLS,
  EVOLUTION_MODES,
  RUN_STATUSES,
} from "../src/domain/run.js";
export {
  DEFAULT_AGENTS_PER_LEVEL,
  DEFAULT_CONSENSUS,
  DEFAULT_EVOLUTION,
  DEFAULT_MAX_DEBATE_ROUNDS,
  DEFAULT_MAX_DEPTH,
  MAX_AGENTS_PER_LEVEL,
  MAX_DEBATE_ROUNDS,
  MAX_DEPTH,
  MAX_QUERY_LENGTH,
} from "../src/domain/run-shape.js";
export type { NoteVerifier } from "../src/domain/signed-note.js";
export { noteVerifierOf } from "./checkpoints.js";
export {
  CLIENT_ERROR_CODES,
  type ClientErrorCode,
  ERROR_CODES,
  isVexError,
  type ServerErrorCode,
  VexError,
  type VexErrorCode,
  VexUnreachableError,
} from "./errors.js";
// The generated operations (client/operations/*.graphql) as typed documents, and their types
export * from "./generated/graphql.js";
export { DEFAULT_RETRY, type ReconnectInfo, type RetryOptions } from "./resume.js";
// A run's state from its events: one reducer for every view of a run
export {
  type AgentView,
  agentsInTreeOrder,
  agentTree,
  appendTokens,
  applyEvent,
  EMPTY_RUN,
  type FinishedView,
  foldRunEvents,
  inTreeOrder,
  isTerminal,
  lastRound,
  type RoundView,
  type RunView,
  TOKEN_TAIL_CHARS,
  type TokenStream,
  type TreeNode,
} from "./run-state.js";
// Talking to a server
export {
  type Agent,
  type AgentPage,
  type AgentToken,
  createVexClient,
  type EvolutionApi,
  type EvolutionRecord,
  type Run,
  type RunDetail,
  type RunEvent,
  type RunEventOf,
  type RunPage,
  type RunWatch,
  type VexClient,
  type VexClientOptions,
  type WatchOptions,
} from "./sdk.js";
export {
  createHttpSseTransport,
  type HttpSseTransportOptions,
  STREAM_PATH_SUFFIX,
} from "./sse-transport.js";
export {
  createHttpExecute,
  createHttpWsTransport,
  DEFAULT_KEEPALIVE_MS,
  DEFAULT_TIMEOUT_MS,
  type HttpWsTransportOptions,
  type Transport,
  TransportDropped,
  webSocketUrlOf,
} from "./transport.js";
// Verifying a run's provenance offline
export {
  type Check,
  type CheckKind,
  type RunProvenanceInput,
  type RunVerification,
  summarizeVerification,
  type VerifyRunOptions,
  verifyRun,
  verifyRunProvenance,
} from "./verify.js";
