import type {
  AgentRole,
  AgentState,
  EventFieldsFragment,
  EvolutionRecordFieldsFragment,
  RoundOutcome,
  RunStatus,
} from "./generated/graphql.js";

/**
 * A run's state folded from its events: the one reducer of every consumer (the web view's live view
 * and replay, the CLI's progress). Pure: the same events give the same view, which is what makes
 * replay from the stored event log possible.
 */

export interface RoundView {
  readonly round: number;
  readonly outcome: RoundOutcome;
  readonly claim: string;
  readonly rebuttal: string | null;
}

export interface AgentView {
  readonly id: string;
  readonly role: AgentRole;
  readonly name: string;
  readonly depth: number;
  readonly parentId: string | null;
  readonly state: AgentState;
  readonly rounds: readonly RoundView[];
  readonly response: string | null;
  readonly confidence: number | null;
  readonly verified: boolean | null;
  readonly contextHash: string | null;
  readonly leafIndex: number | null;
  readonly error: { readonly code: string; readonly message: string } | null;
}

export interface FinishedView {
  readonly status: RunStatus;
  readonly response: string | null;
  readonly confidence: number | null;
  readonly merkleRoot: string | null;
  readonly traceRoot: string | null;
  readonly error: { readonly code: string; readonly message: string } | null;
}

export interface RunView {
  readonly query: string | null;
  /** Agent ids in spawn order. */
  readonly order: readonly string[];
  readonly agents: Readonly<Record<string, AgentView>>;
  readonly evolution: readonly EvolutionRecordFieldsFragment[];
  readonly anchors: number;
  /** The budget that stopped the run, when one did (a BudgetExceeded event). */
  readonly budgetExceeded: {
    readonly scope: string;
    readonly limit: number;
    readonly used: number;
    readonly reserved: number;
  } | null;
  readonly resumed: boolean;
  readonly finished: FinishedView | null;
  readonly lastSeq: number;
}

export const EMPTY_RUN: RunView = {
  query: null,
  order: [],
  agents: {},
  evolution: [],
  anchors: 0,
  budgetExceeded: null,
  resumed: false,
  finished: null,
  lastSeq: 0,
};

const patch = (view: RunView, id: string, change: (a: AgentView) => AgentView): RunView => {
  const agent = view.agents[id];
  return agent ? { ...view, agents: { ...view.agents, [id]: change(agent) } } : view;
};

/** The round of an agent's last completed debate round (0 before the first). */
export const lastRound = (agent: AgentView): number => agent.rounds.at(-1)?.round ?? 0;

/**
 * Items in tree order: each after its parent, siblings in the given order. An item whose parent is not
 * among them is a root.
 */
export const inTreeOrder = <T extends { readonly id: string; readonly parentId: string | null }>(
  items: readonly T[],
): T[] => {
  const byParent = childrenByParent(items);
  const out: T[] = [];
  const visit = (parent: string | null) => {
    for (const item of byParent.get(parent) ?? []) {
      out.push(item);
      visit(item.id);
    }
  };
  visit(null);
  return out;
};

/** A run's agents in tree order: each after its parent, siblings in spawn order. */
export const agentsInTreeOrder = (view: RunView): AgentView[] =>
  inTreeOrder(view.order.flatMap((id) => view.agents[id] ?? []));

/** One stored event applied to the view. Events at or below lastSeq are ignored (replay overlap). */
export const applyEvent = (view: RunView, event: EventFieldsFragment): RunView => {
  if (event.seq <= view.lastSeq) return view;
  const next = { ...view, lastSeq: event.seq };
  switch (event.__typename) {
    case "RunStarted":
      return { ...next, query: event.query };
    case "RunResumed":
      return { ...next, resumed: true };
    case "AgentStarted": {
      const a = event.agent;
      if (next.agents[a.id]) return patch(next, a.id, (old) => ({ ...old, state: a.state }));
      const agent: AgentView = {
        id: a.id,
        role: a.role,
        name: a.name,
        depth: a.depth,
        parentId: a.parentId,
        state: a.state,
        rounds: [],
        response: null,
        confidence: null,
        verified: null,
        contextHash: null,
        leafIndex: null,
        error: null,
      };
      return { ...next, order: [...next.order, a.id], agents: { ...next.agents, [a.id]: agent } };
    }
    case "ReviewRequested":
      return patch(next, event.review.agentId, (a) => ({ ...a, state: "AWAITING_REVIEW" }));
    case "ReviewSubmitted":
      return next;
    case "DebateRoundCompleted":
      return patch(next, event.agentId, (a) => ({
        ...a,
        state: a.state === "RUNNING" || a.state === "PENDING" ? "DEBATING" : a.state,
        rounds: [
          ...a.rounds.filter((r) => r.round !== event.round),
          {
            round: event.round,
            outcome: event.debateRound.outcome,
            claim: event.debateRound.claim,
            rebuttal: event.debateRound.rebuttal,
          },
        ].sort((x, y) => x.round - y.round),
      }));
    case "AgentCompleted":
      return patch(next, event.agent.id, (a) => ({
        ...a,
        state: event.agent.state,
        response: event.result.response,
        confidence: event.result.confidence,
        verified: event.result.verified,
        contextHash: event.result.contextHash,
        leafIndex: event.result.leafIndex,
      }));
    case "AgentFailed":
      return patch(next, event.agent.id, (a) => ({ ...a, state: event.agent.state, error: event.error }));
    case "EvolutionApplied":
      return { ...next, evolution: [...next.evolution, event.record] };
    case "AnchorRecorded":
      return { ...next, anchors: next.anchors + 1 };
    case "BudgetExceeded": {
      const { scope, limit, used, reserved } = event;
      return { ...next, budgetExceeded: { scope, limit, used, reserved } };
    }
    case "RunFinished":
      return {
        ...next,
        finished: {
          status: event.status,
          response: event.response,
          confidence: event.confidence,
          merkleRoot: event.merkleRoot,
          traceRoot: event.traceRoot,
          error: event.error,
        },
      };
  }
};

/** The view after the first `count` events (all of them when count is undefined). */
export const foldRunEvents = (events: readonly EventFieldsFragment[], count?: number): RunView =>
  events.slice(0, count ?? events.length).reduce(applyEvent, EMPTY_RUN);

export interface TreeNode {
  readonly agent: AgentView;
  readonly children: readonly TreeNode[];
}

/** Items by parent id (null for roots: no parent, or a parent not among them), in the given order. */
const childrenByParent = <T extends { readonly id: string; readonly parentId: string | null }>(
  items: readonly T[],
): Map<string | null, T[]> => {
  const ids = new Set(items.map((item) => item.id));
  const children = new Map<string | null, T[]>();
  for (const item of items) {
    const parent = item.parentId !== null && ids.has(item.parentId) ? item.parentId : null;
    children.set(parent, [...(children.get(parent) ?? []), item]);
  }
  return children;
};

/** The agents as trees (normally one, rooted at the ROOT agent), children in spawn order. */
export const agentTree = (view: RunView): TreeNode[] => {
  const children = childrenByParent(view.order.flatMap((id) => view.agents[id] ?? []));
  const build = (agent: AgentView): TreeNode => ({
    agent,
    children: (children.get(agent.id) ?? []).map(build),
  });
  return (children.get(null) ?? []).map(build);
};

/** Streamed text per agent: the current call's kind and the tail of its text. Live only. */
export interface TokenStream {
  readonly kind: string;
  readonly text: string;
}

/** Longest tail of streamed text kept per agent. */
export const TOKEN_TAIL_CHARS = 600;

export const appendTokens = (
  streams: Readonly<Record<string, TokenStream>>,
  pieces: readonly { readonly agentId: string; readonly kind: string; readonly text: string }[],
): Record<string, TokenStream> => {
  const next: Record<string, TokenStream> = { ...streams };
  for (const p of pieces) {
    const old = next[p.agentId];
    const text = old && old.kind === p.kind ? old.text + p.text : p.text;
    next[p.agentId] = { kind: p.kind, text: text.slice(-TOKEN_TAIL_CHARS) };
  }
  return next;
};

/** True for a status a run never leaves (SUCCEEDED, FAILED, CANCELLED, INTERRUPTED): the domain's. */
export { isTerminal } from "../src/domain/run.js";
