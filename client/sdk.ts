import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { VexError, VexUnreachableError } from "./errors.js";
import {
  AgentDocument,
  type AgentFieldsFragment,
  type AgentRole,
  AgentsDocument,
  type AgentsQuery,
  AgentTokensDocument,
  type AgentTokensSubscription,
  CancelOrchestrationDocument,
  type EventFieldsFragment,
  EvolutionEventsDocument,
  type EvolutionEventsSubscription,
  EvolutionRecordsDocument,
  type EvolutionRecordsQuery,
  ExperimentsDocument,
  type ExperimentsQuery,
  GenePoolDocument,
  type GenePoolQuery,
  OrchestrationDocument,
  OrchestrationEventLogDocument,
  OrchestrationEventsDocument,
  type OrchestrationQuery,
  OrchestrationsDocument,
  type OrchestrationsQuery,
  PendingReviewsDocument,
  type PendingReviewsQuery,
  ResumeOrchestrationDocument,
  RulesDocument,
  type RulesQuery,
  type RunFieldsFragment,
  type RunStatus,
  StartOrchestrationDocument,
  type StartOrchestrationInput,
  SubmitReviewDocument,
  type SubmitReviewInput,
  type SubmitReviewMutation,
  TraitCorrelationsDocument,
  type TraitCorrelationsQuery,
} from "./generated/graphql.js";
import { type Failure, type ReconnectInfo, type RetryOptions, resumable } from "./resume.js";
import {
  createHttpWsTransport,
  type HttpWsTransportOptions,
  type Transport,
  TransportDropped,
} from "./transport.js";

/** A run as the mutations and lists return it. */
export type Run = RunFieldsFragment;
/** A run with its agents, as `orchestration(id)` returns it. */
export type RunDetail = NonNullable<OrchestrationQuery["orchestration"]>;
export type RunPage = OrchestrationsQuery["orchestrations"];
export type Agent = AgentFieldsFragment;
export type AgentPage = AgentsQuery["agents"];
/** One stored step of a run: RunStarted, AgentStarted, DebateRoundCompleted, AgentCompleted, AgentFailed, RunFinished. */
export type RunEvent = EventFieldsFragment;
/** The event of one type, e.g. `RunEventOf<"RunFinished">`. */
export type RunEventOf<T extends RunEvent["__typename"]> = Extract<RunEvent, { __typename: T }>;

export interface VexClientOptions extends HttpWsTransportOptions {
  /** How `watch` reconnects. */
  readonly retry?: RetryOptions;
  /**
   * How the client talks to the server. Default: {@link createHttpWsTransport} with these options
   * (HTTP for queries and mutations, one graphql-ws WebSocket for subscriptions).
   */
  readonly transport?: Transport;
}

export interface WatchOptions {
  /** Deliver only events after this seq (resume where you left off). Default 0. */
  readonly afterSeq?: number;
  /** Ends the iteration, releasing its socket. */
  readonly signal?: AbortSignal;
  /** Called before each resubscription after a dropped connection. */
  readonly onReconnect?: (info: ReconnectInfo) => void;
  /** Overrides the client's retry options for this watch. */
  readonly retry?: RetryOptions;
}

/** The events of one run; `return()` (or `break` in for-await) releases the socket at once. */
export interface RunWatch extends AsyncIterableIterator<RunEvent> {
  return(): Promise<IteratorResult<RunEvent>>;
}

type VariablesArg<V> = Record<string, never> extends V ? [variables?: V] : [variables: V];

/** One piece of an agent's streamed LLM output. */
export type AgentToken = AgentTokensSubscription["agentTokens"];
/** One evolution step (a genome changed), as the live evolution stream delivers it. */
export type EvolutionRecord = EvolutionEventsSubscription["evolutionEvents"];
type Page = { first?: number; after?: string | null };

/** The evolution state of the key's tenant: gene pools, correlations, experiments, rules, records. */
export interface EvolutionApi {
  genePool(): Promise<GenePoolQuery["genePool"]>;
  traitCorrelations(role?: AgentRole | null): Promise<TraitCorrelationsQuery["traitCorrelations"]>;
  experiments(args?: Page): Promise<ExperimentsQuery["experiments"]>;
  rules(args?: Page): Promise<RulesQuery["rules"]>;
  records(args?: Page): Promise<EvolutionRecordsQuery["evolutionRecords"]>;
  /** Evolution steps as they happen (live only; nothing is replayed). Ends when `signal` aborts. */
  events(options?: { signal?: AbortSignal }): AsyncIterableIterator<EvolutionRecord>;
}

export interface VexClient {
  readonly url: string;
  /** Starts a run; it returns at once (status PENDING: queued for a worker). Follow it with {@link watch}. */
  startOrchestration(input: StartOrchestrationInput): Promise<Run>;
  /** Cancels a running run; NOT_FOUND for an unknown id. */
  cancelOrchestration(id: string): Promise<Run>;
  /** Resumes an INTERRUPTED run from its stored state. */
  resumeOrchestration(id: string): Promise<Run>;
  /** A run with its agents, or null when there is none with this id (for this key's tenant). */
  orchestration(id: string): Promise<RunDetail | null>;
  /** Runs, newest first. */
  orchestrations(args?: Page & { status?: RunStatus | null }): Promise<RunPage>;
  /**
   * The stored events of a run after `afterSeq` (one page: the server caps how many per call), or null
   * for an unknown run. To read a whole run, {@link watch} it: it replays everything, then goes live.
   */
  eventLog(id: string, afterSeq?: number): Promise<RunEvent[] | null>;
  agent(id: string): Promise<Agent | null>;
  /** Agents, newest first. */
  agents(args?: Page & { role?: AgentRole | null; orchestrationId?: string | null }): Promise<AgentPage>;
  /**
   * A run's events, replayed from the start (or after `afterSeq`) and then live, ending after
   * RunFinished. A dropped connection is resumed with afterSeq = the last seq seen: no gap, no
   * duplicate. Fails with a {@link VexError} (UNAUTHENTICATED, NOT_FOUND, …) or, when the server stays
   * unreachable, a {@link VexUnreachableError}.
   */
  watch(orchestrationId: string, options?: WatchOptions): RunWatch;
  /**
   * The LLM output of a run's agents as it streams (live only; tokens are not stored). Ends when the
   * run does or when `signal` aborts.
   */
  tokens(orchestrationId: string, options?: { signal?: AbortSignal }): AsyncIterableIterator<AgentToken>;
  /** Reviews waiting for a person (human review gates), newest first. */
  pendingReviews(args?: Page): Promise<PendingReviewsQuery["pendingReviews"]>;
  /**
   * Decides a review (APPROVE, REJECT, or REVISE with `revision`) and continues its run; the decision
   * is recorded with this client's API key. REVIEW_ALREADY_DECIDED for a second decision.
   */
  submitReview(input: SubmitReviewInput): Promise<SubmitReviewMutation["submitReview"]>;
  readonly evolution: EvolutionApi;
  /** Any other generated operation (query or mutation); `signal` cancels it. */
  request<R, V>(document: TypedDocumentNode<R, V>, ...[variables]: VariablesArg<V>): Promise<R>;
  /** Like {@link request}, with a signal that cancels the request. */
  requestWithSignal<R, V>(document: TypedDocumentNode<R, V>, variables: V, signal: AbortSignal): Promise<R>;
  /** Ends every open watch and stream and releases the connection. */
  close(): Promise<void>;
}

/** How a failed subscription is handled: GraphQL errors and refusals are final; dropped sockets are resumed. */
const classify = (error: unknown): Failure => {
  if (error instanceof VexError) return error;
  if (error instanceof TransportDropped) return { retry: error.reason, unreachable: error.unreachable };
  return { retry: error instanceof Error ? error.message : String(error), unreachable: true };
};

/** A stream that stops with `signal` or with the client, whichever comes first. */
const linked = (outer: AbortSignal | undefined, streams: Set<AbortController>) => {
  const controller = new AbortController();
  streams.add(controller);
  const onOuterAbort = () => controller.abort();
  if (outer?.aborted) controller.abort();
  else outer?.addEventListener("abort", onOuterAbort, { once: true });
  const release = () => {
    controller.abort();
    outer?.removeEventListener("abort", onOuterAbort);
    streams.delete(controller);
  };
  return { signal: controller.signal, release };
};

/** A typed client for one VEX server. It holds no connection until a subscription starts. */
export const createVexClient = (options: VexClientOptions): VexClient => {
  const transport = options.transport ?? createHttpWsTransport(options);
  const { url } = transport;
  const streams = new Set<AbortController>();
  const request = <R, V>(document: TypedDocumentNode<R, V>, variables?: V, signal?: AbortSignal) =>
    transport.execute(document, variables, signal);

  /** A live-only subscription, mapped to its field; it ends with the stream or on abort. */
  const live = <R, V, T>(
    document: TypedDocumentNode<R, V>,
    variables: V,
    pick: (data: R) => T,
    outer?: AbortSignal,
  ): AsyncIterableIterator<T> =>
    (async function* () {
      const { signal, release } = linked(outer, streams);
      try {
        for await (const data of transport.subscribe(document, variables, signal)) yield pick(data);
      } catch (e) {
        if (signal.aborted) return;
        if (!(e instanceof TransportDropped)) throw e;
        // Live-only streams are not resumed: what was missed is gone. The caller resubscribes if it wants.
        throw e.unreachable
          ? new VexUnreachableError(transport.url, e.reason)
          : new VexError("CONNECTION_CLOSED", `Lost the stream: ${e.reason}.`);
      } finally {
        release();
      }
    })();

  const watch = (orchestrationId: string, watchOptions: WatchOptions = {}): RunWatch => {
    const { signal, release } = linked(watchOptions.signal, streams);
    const subscribe = (afterSeq: number): AsyncIterator<RunEvent> =>
      (async function* () {
        const results = transport.subscribe(
          OrchestrationEventsDocument,
          { orchestrationId, afterSeq },
          signal,
        );
        for await (const result of results) yield result.orchestrationEvents;
      })();

    const events = resumable(subscribe, {
      ...(watchOptions.afterSeq === undefined ? {} : { afterSeq: watchOptions.afterSeq }),
      ...(watchOptions.onReconnect ? { onReconnect: watchOptions.onReconnect } : {}),
      retry: { ...options.retry, ...watchOptions.retry },
      signal,
      isLast: (e) => e.__typename === "RunFinished",
      classify,
      giveUp: (reason, unreachable, attempts) =>
        unreachable
          ? new VexUnreachableError(url, `${reason} (gave up after ${attempts} retries)`)
          : new VexError(
              "CONNECTION_CLOSED",
              `Lost the event stream: ${reason} (gave up after ${attempts} retries).`,
            ),
    });

    const iterator: RunWatch = {
      async next() {
        try {
          const result = await events.next();
          if (result.done) release();
          return result;
        } catch (e) {
          release();
          throw e;
        }
      },
      async return() {
        // Aborting first ends a pending next(), which an async generator's return() would wait for.
        release();
        await events.return(undefined);
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    return iterator;
  };

  const evolution: EvolutionApi = {
    genePool: async () => (await request(GenePoolDocument)).genePool,
    traitCorrelations: async (role) =>
      (await request(TraitCorrelationsDocument, role ? { role } : {})).traitCorrelations,
    experiments: async (args = {}) => (await request(ExperimentsDocument, args)).experiments,
    rules: async (args = {}) => (await request(RulesDocument, args)).rules,
    records: async (args = {}) => (await request(EvolutionRecordsDocument, args)).evolutionRecords,
    events: (opts = {}) => live(EvolutionEventsDocument, {}, (d) => d.evolutionEvents, opts.signal),
  };

  return {
    url,
    startOrchestration: async (input) =>
      (await request(StartOrchestrationDocument, { input })).startOrchestration,
    cancelOrchestration: async (id) =>
      (await request(CancelOrchestrationDocument, { id })).cancelOrchestration,
    resumeOrchestration: async (id) =>
      (await request(ResumeOrchestrationDocument, { id })).resumeOrchestration,
    orchestration: async (id) => (await request(OrchestrationDocument, { id })).orchestration,
    orchestrations: async (args = {}) => (await request(OrchestrationsDocument, args)).orchestrations,
    eventLog: async (id, afterSeq) =>
      (await request(OrchestrationEventLogDocument, { id, ...(afterSeq === undefined ? {} : { afterSeq }) }))
        .orchestration?.events ?? null,
    agent: async (id) => (await request(AgentDocument, { id })).agent,
    pendingReviews: async (args = {}) => (await request(PendingReviewsDocument, args)).pendingReviews,
    submitReview: async (input) => (await request(SubmitReviewDocument, { input })).submitReview,
    agents: async (args = {}) => (await request(AgentsDocument, args)).agents,
    watch,
    tokens: (orchestrationId, opts = {}) =>
      live(AgentTokensDocument, { orchestrationId }, (d) => d.agentTokens, opts.signal),
    evolution,
    request: (document, ...[variables]) => request(document, variables),
    requestWithSignal: (document, variables, signal) => request(document, variables, signal),
    close: async () => {
      for (const c of [...streams]) c.abort();
      streams.clear();
      await transport.close();
    },
  };
};
