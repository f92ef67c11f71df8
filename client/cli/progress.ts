import type { RunEvent, RunEventOf } from "../sdk.js";

/** What the terminal shows for one agent. */
export interface AgentRow {
  readonly id: string;
  readonly role: string;
  readonly name: string;
  readonly depth: number;
  readonly parentId: string | null;
  state: string;
  /** Last completed debate round (0 before the first). */
  round: number;
  confidence: number | null;
  verified: boolean | null;
  error: string | null;
}

/**
 * Items in tree order: each after its parent, siblings in the given order. An item whose parent is not
 * among them is a root.
 */
export const inTreeOrder = <T extends { readonly id: string; readonly parentId: string | null }>(
  items: readonly T[],
): T[] => {
  const ids = new Set(items.map((item) => item.id));
  const children = new Map<string | null, T[]>();
  for (const item of items) {
    const parent = item.parentId !== null && ids.has(item.parentId) ? item.parentId : null;
    const list = children.get(parent) ?? [];
    list.push(item);
    children.set(parent, list);
  }
  const out: T[] = [];
  const visit = (parent: string | null) => {
    for (const item of children.get(parent) ?? []) {
      out.push(item);
      visit(item.id);
    }
  };
  visit(null);
  return out;
};

/** The live state of a run, folded from its events. */
export class RunProgress {
  readonly rows = new Map<string, AgentRow>();
  lastSeq = 0;
  finished: RunEventOf<"RunFinished"> | null = null;

  constructor(readonly runId: string) {}

  /** Applies one event; returns the agent row it changed, if any. */
  apply(event: RunEvent): AgentRow | null {
    this.lastSeq = event.seq;
    switch (event.__typename) {
      case "AgentStarted": {
        const a = event.agent;
        const row: AgentRow = {
          id: a.id,
          role: a.role,
          name: a.name,
          depth: a.depth,
          parentId: a.parentId,
          state: a.state,
          round: 0,
          confidence: null,
          verified: null,
          error: null,
        };
        this.rows.set(a.id, row);
        return row;
      }
      case "DebateRoundCompleted": {
        const row = this.rows.get(event.agentId);
        if (!row) return null;
        row.state = "DEBATING";
        row.round = event.round;
        return row;
      }
      case "AgentCompleted": {
        const row = this.rows.get(event.agent.id);
        if (!row) return null;
        row.state = event.agent.state;
        row.confidence = event.result.confidence;
        row.verified = event.result.verified;
        return row;
      }
      case "AgentFailed": {
        const row = this.rows.get(event.agent.id);
        if (!row) return null;
        row.state = event.agent.state;
        row.error = event.error ? `${event.error.code}: ${event.error.message}` : null;
        return row;
      }
      case "RunFinished":
        this.finished = event;
        return null;
      default:
        // RunStarted, and event types this CLI does not show per agent.
        return null;
    }
  }

  /** Rows in tree order: each agent after its parent, siblings in spawn order. */
  ordered(): AgentRow[] {
    return inTreeOrder([...this.rows.values()]);
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
  `Run ${p.runId}  ${p.status()}  ${p.rows.size} agent${p.rows.size === 1 ? "" : "s"}  event ${p.lastSeq}`;

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
