import {
  type AgentView,
  agentsInTreeOrder,
  applyEvent,
  EMPTY_RUN,
  lastRound,
  type RunView,
} from "../run-state.js";
import type { RunEvent } from "../sdk.js";

/** What the terminal shows for one agent. */
export interface AgentRow {
  readonly id: string;
  readonly role: string;
  readonly name: string;
  readonly depth: number;
  readonly parentId: string | null;
  readonly state: string;
  /** Last completed debate round (0 before the first). */
  readonly round: number;
  readonly confidence: number | null;
  readonly verified: boolean | null;
  readonly error: string | null;
}

const rowOf = (a: AgentView): AgentRow => ({
  id: a.id,
  role: a.role,
  name: a.name,
  depth: a.depth,
  parentId: a.parentId,
  state: a.state,
  round: lastRound(a),
  confidence: a.confidence,
  verified: a.verified,
  error: a.error ? `${a.error.code}: ${a.error.message}` : null,
});

/** The agent an event is about, if any. */
const agentIdOf = (event: RunEvent): string | null => {
  switch (event.__typename) {
    case "AgentStarted":
    case "AgentCompleted":
    case "AgentFailed":
      return event.agent.id;
    case "DebateRoundCompleted":
      return event.agentId;
    default:
      return null;
  }
};

/** The live state of a run: the client's one reducer (client/run-state.ts), shown as terminal rows. */
export class RunProgress {
  view: RunView = EMPTY_RUN;

  constructor(readonly runId: string) {}

  get lastSeq(): number {
    return this.view.lastSeq;
  }

  get finished(): RunView["finished"] {
    return this.view.finished;
  }

  /** Agents seen so far. */
  get agentCount(): number {
    return this.view.order.length;
  }

  /** Applies one event; returns the agent row it changed, if any. */
  apply(event: RunEvent): AgentRow | null {
    this.view = applyEvent(this.view, event);
    const id = agentIdOf(event);
    const agent = id === null ? undefined : this.view.agents[id];
    return agent ? rowOf(agent) : null;
  }

  /** Rows in tree order: each agent after its parent, siblings in spawn order. */
  ordered(): AgentRow[] {
    return agentsInTreeOrder(this.view).map(rowOf);
  }

  /** The status shown in the header. */
  status(): string {
    return this.finished?.status ?? "RUNNING";
  }
}

const fixed = (n: number | null) => (n === null ? "-" : n.toFixed(2));

/** One agent's line: name (indented by depth), role, state, debate round, confidence. */
export const agentLine = (row: AgentRow, indent = true): string => {
  const name = `${indent ? "  ".repeat(row.depth) : ""}${row.name}`.padEnd(16);
  const verdict = row.verified === null ? "" : row.verified ? " (verified)" : " (not verified)";
  const error = row.error ? `  ${row.error}` : "";
  return `${name} ${row.role.padEnd(10)} ${row.state.padEnd(9)} round ${String(row.round || "-").padEnd(2)} confidence ${fixed(row.confidence)}${verdict}${error}`;
};

export const headerLine = (p: RunProgress): string =>
  `Run ${p.runId}  ${p.status()}  ${p.agentCount} agent${p.agentCount === 1 ? "" : "s"}  event ${p.lastSeq}`;

/** Output for a progress renderer. */
export interface ProgressOutput {
  write(text: string): void;
  readonly columns?: number | undefined;
}

/** Renders progress as it changes. */
export interface ProgressRenderer {
  update(progress: RunProgress, changed: AgentRow | null, event: RunEvent): void;
  /** Called once before the final summary. */
  done(progress: RunProgress): void;
  /** A message between updates (e.g. a reconnect notice) that must not garble the live block. */
  note(progress: RunProgress, line: string): void;
}

/**
 * A terminal: the header and one line per agent, redrawn in place (cursor up, clear line). Lines are
 * cut to the terminal width so that wrapping never breaks the cursor arithmetic.
 */
export const ttyRenderer = (out: ProgressOutput): ProgressRenderer => {
  let drawn = 0;
  const fitWidth = (line: string) => {
    const width = out.columns ?? 0;
    return width > 1 && line.length > width - 1 ? `${line.slice(0, width - 2)}…` : line;
  };
  const draw = (p: RunProgress) => {
    const lines = [headerLine(p), ...p.ordered().map((r) => `  ${agentLine(r)}`)];
    let text = drawn > 0 ? `\x1b[${drawn}A` : "";
    for (const line of lines) text += `\r\x1b[2K${fitWidth(line)}\n`;
    text += "\x1b[J";
    out.write(text);
    drawn = lines.length;
  };
  return {
    update: (p) => draw(p),
    done: (p) => draw(p),
    note: (p, line) => {
      // Print the note where the block was, then redraw the block below it.
      out.write(`${drawn > 0 ? `\x1b[${drawn}A` : ""}\r\x1b[J${fitWidth(line)}\n`);
      drawn = 0;
      draw(p);
    },
  };
};

/** Not a terminal (a pipe, a log file): one appended line per change, nothing redrawn. */
export const plainRenderer = (out: ProgressOutput): ProgressRenderer => ({
  update: (p, changed, event) => {
    if (event.__typename === "RunStarted") out.write(`Run ${p.runId}: ${JSON.stringify(event.query)}\n`);
    if (changed) out.write(`${agentLine(changed, false)}\n`);
  },
  done: () => undefined,
  note: (_p, line) => out.write(`${line}\n`),
});
