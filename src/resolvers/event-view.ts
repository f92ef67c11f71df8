import type { AnchorReceipt } from "../domain/anchor.js";
import { AppError, ErrorCode } from "../domain/errors.js";
import type { RunEvent } from "../domain/events.js";
import { type Agent, agentAsStarted } from "../domain/run.js";
import type { Loaders } from "./loaders.js";
import { toEventView } from "./mappers.js";

/**
 * The GraphQL shape of a stored or live event, with the record it names read through the request's
 * DataLoaders (one read for all the agents of an event log, one for a run's receipts): an
 * AgentStarted's agent as it started, an AgentCompleted's agent, an AnchorRecorded's receipt. Each
 * record is stored before the event that names it. A subscription's loaders live as long as the
 * subscription, so a record read before it was there (an agent not completed yet, a run's receipts
 * before another backend's) is read again once; a completed agent and a receipt never change.
 */
export const eventView = async (e: RunEvent, loaders: Loaders) => {
  switch (e.type) {
    case "AgentStarted":
      return toEventView(e, { agent: agentAsStarted(await namedAgent(loaders, e, () => true)) });
    case "AgentCompleted":
      return toEventView(e, { agent: await namedAgent(loaders, e, (agent) => agent.result !== null) });
    case "AnchorRecorded":
      return toEventView(e, { receipt: await namedReceipt(loaders, e) });
    default:
      return toEventView(e);
  }
};

/** What `load` gives, read again once if `found` says it is not there yet; null when it never is. */
const loadFresh = async <K, V, R>(
  loader: { load(key: K): Promise<V>; clear(key: K): unknown },
  key: K,
  found: (value: V) => R | null,
): Promise<R | null> => {
  const first = found(await loader.load(key));
  if (first !== null) return first;
  loader.clear(key);
  return found(await loader.load(key));
};

const namedAgent = async (
  loaders: Loaders,
  e: Extract<RunEvent, { agentId: string }>,
  ready: (agent: Agent) => boolean,
): Promise<Agent> =>
  (await loadFresh(loaders.agentById, e.agentId, (agent) =>
    agent !== null && ready(agent) ? agent : null,
  )) ?? missing(e, `agent ${e.agentId}`);

const namedReceipt = async (
  loaders: Loaders,
  e: Extract<RunEvent, { type: "AnchorRecorded" }>,
): Promise<AnchorReceipt> =>
  (await loadFresh(
    loaders.receiptsByRun,
    e.runId,
    (receipts) => receipts.find((r) => r.backend === e.backend && r.recordHash === e.recordHash) ?? null,
  )) ?? missing(e, `${e.backend} receipt ${e.recordHash}`);

const missing = (e: RunEvent, what: string): never => {
  throw new AppError(
    ErrorCode.Internal,
    `The ${what} that ${e.type} event #${e.seq} of run ${e.runId} names is not stored.`,
  );
};
