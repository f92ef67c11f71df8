import { describe, expect, it } from "vitest";
import { plainRenderer, RunProgress, ttyRenderer } from "../../client/cli/progress.js";
import type { RunEvent } from "../../client/sdk.js";

const base = (seq: number) => ({ orchestrationId: "run-1", seq, at: "2026-01-01T00:00:00.000Z" });
const started = (seq: number, id: string, role: "ROOT" | "RESEARCHER" | "CRITIC", parentId: string | null) =>
  ({
    __typename: "AgentStarted",
    ...base(seq),
    agent: {
      id,
      role,
      name: role[0] + role.slice(1).toLowerCase(),
      depth: parentId ? 1 : 0,
      parentId,
      state: "RUNNING",
    },
  }) as RunEvent;

const events: RunEvent[] = [
  { __typename: "RunStarted", ...base(1), query: "why?" } as RunEvent,
  started(2, "root", "ROOT", null),
  started(3, "r", "RESEARCHER", "root"),
  started(4, "c", "CRITIC", "root"),
  {
    __typename: "DebateRoundCompleted",
    ...base(5),
    agentId: "r",
    round: 2,
    debateRound: { round: 2, outcome: "CHALLENGED", claim: "x", rebuttal: "y" },
  } as RunEvent,
  {
    __typename: "AgentCompleted",
    ...base(6),
    agent: { id: "c", role: "CRITIC", state: "COMPLETED", fitness: 0.5 },
    result: { response: "ok", confidence: 0.734, verified: true, contextHash: "h", leafIndex: 2 },
  } as RunEvent,
];

const capture = (columns = 120) => {
  const chunks: string[] = [];
  return { chunks, out: { write: (t: string) => void chunks.push(t), columns } };
};
const ESC = "\u001b";
const CONTROL = new RegExp(`${ESC}\\[[0-9]*[A-Za-z]|\\r`, "g");
const MOVE_UP = new RegExp(`^${ESC}\\[(\\d+)A`);
const visible = (frame: string) => frame.replace(CONTROL, "");

describe("run progress in the terminal", () => {
  it("folds events into one row per agent: role, state, debate round, confidence", () => {
    const p = new RunProgress("run-1");
    for (const e of events) p.apply(e);
    expect(p.ordered().map((r) => [r.name, r.role, r.state, r.round, r.confidence])).toEqual([
      ["Root", "ROOT", "RUNNING", 0, null],
      ["Researcher", "RESEARCHER", "DEBATING", 2, null],
      ["Critic", "CRITIC", "COMPLETED", 0, 0.734],
    ]);
  });

  it("redraws the block in place on a TTY, cut to the terminal width", () => {
    const { chunks, out } = capture();
    const r = ttyRenderer(out);
    const p = new RunProgress("run-1");
    for (const e of events) r.update(p, p.apply(e), e);
    expect(chunks[0]?.startsWith("\x1b[")).toBe(false); // nothing to move over yet
    // Each later frame first moves up over the previous one (header + one line per agent then).
    expect(chunks.slice(1).map((c) => MOVE_UP.exec(c)?.[1])).toEqual(["1", "2", "3", "4", "4"]);
    const last = chunks.at(-1) ?? "";
    expect(last).toContain("confidence 0.73 (verified)");
    expect(last).toContain("round 2");

    const narrow = capture(40);
    const n = ttyRenderer(narrow.out);
    const q = new RunProgress("run-1");
    for (const e of events) n.update(q, q.apply(e), e);
    const lines = visible(narrow.chunks.at(-1) ?? "")
      .split("\n")
      .filter(Boolean);
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(line.length).toBeLessThan(40);
  });

  it("appends one plain line per change when not a TTY", () => {
    const { chunks, out } = capture();
    const r = plainRenderer(out);
    const p = new RunProgress("run-1");
    for (const e of events) r.update(p, p.apply(e), e);
    expect(chunks.join("")).not.toContain("\x1b");
    expect(chunks).toHaveLength(6);
    expect(chunks[0]).toBe('Run run-1: "why?"\n');
    expect(chunks[4]).toMatch(/^Researcher +RESEARCHER DEBATING +round 2/);
  });
});
