import { describe, expect, it } from "vitest";
import {
  agentsInTreeOrder,
  agentTree,
  appendTokens,
  foldRunEvents,
  inTreeOrder,
  lastRound,
  type RunEvent,
  TOKEN_TAIL_CHARS,
} from "../../client/index.js";

const at = "2026-01-01T00:00:00.000Z";
const started = (seq: number, id: string, parentId: string | null, depth: number) =>
  ({
    __typename: "AgentStarted",
    orchestrationId: "run",
    seq,
    at,
    agent: { id, role: depth === 0 ? "ROOT" : "RESEARCHER", name: id, depth, parentId, state: "RUNNING" },
  }) as RunEvent;
const round = (seq: number, agentId: string, n: number) =>
  ({
    __typename: "DebateRoundCompleted",
    orchestrationId: "run",
    seq,
    at,
    agentId,
    round: n,
    debateRound: { round: n, outcome: "CHALLENGED", claim: `claim ${n}`, rebuttal: null },
  }) as RunEvent;

/** The client's one reducer, which the web view and the CLI both draw from. */
describe("a run's state from its events", () => {
  const events: RunEvent[] = [
    { __typename: "RunStarted", orchestrationId: "run", seq: 1, at, query: "why?" } as RunEvent,
    started(2, "root", null, 0),
    started(3, "a", "root", 1),
    started(4, "b", "root", 1),
    started(5, "a1", "a", 2),
    round(6, "a", 1),
    round(7, "a", 2),
  ];

  it("folds events in order, ignoring a replayed overlap", () => {
    const once = foldRunEvents(events);
    const overlapped = foldRunEvents([...events.slice(0, 5), ...events.slice(3)]);
    expect(overlapped).toEqual(once);
    expect(once.lastSeq).toBe(7);
    expect(once.query).toBe("why?");
    expect(once.agents.a?.state).toBe("DEBATING");
    expect(once.agents.a && lastRound(once.agents.a)).toBe(2);
    expect(once.agents.b && lastRound(once.agents.b)).toBe(0);
  });

  it("replays a prefix: the state after the first n events", () => {
    const view = foldRunEvents(events, 3);
    expect(view.order).toEqual(["root", "a"]);
    expect(view.lastSeq).toBe(3);
  });

  it("builds one tree, children in spawn order, and the same order flat", () => {
    const view = foldRunEvents(events);
    const [root, ...others] = agentTree(view);
    expect(others).toEqual([]);
    expect(root?.agent.id).toBe("root");
    expect(root?.children.map((c) => c.agent.id)).toEqual(["a", "b"]);
    expect(root?.children[0]?.children.map((c) => c.agent.id)).toEqual(["a1"]);
    expect(agentsInTreeOrder(view).map((a) => a.id)).toEqual(["root", "a", "a1", "b"]);
  });

  it("treats an item whose parent is missing as a root", () => {
    const items = [
      { id: "x", parentId: "gone" },
      { id: "y", parentId: "x" },
      { id: "z", parentId: null },
    ];
    expect(inTreeOrder(items).map((i) => i.id)).toEqual(["x", "y", "z"]);
  });

  it("keeps the tail of each agent's streamed text, restarting when the kind of call changes", () => {
    const long = "x".repeat(TOKEN_TAIL_CHARS);
    let streams = appendTokens({}, [
      { agentId: "a", kind: "ANSWER", text: "hello " },
      { agentId: "a", kind: "ANSWER", text: long },
    ]);
    expect(streams.a?.text).toHaveLength(TOKEN_TAIL_CHARS);
    expect(streams.a?.text.endsWith("x")).toBe(true);
    streams = appendTokens(streams, [{ agentId: "a", kind: "REBUTTAL", text: "no" }]);
    expect(streams.a).toEqual({ kind: "REBUTTAL", text: "no" });
  });
});
