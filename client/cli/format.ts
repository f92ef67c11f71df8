import { inTreeOrder } from "../run-state.js";
import type { Run, RunDetail, RunPage } from "../sdk.js";
import { agentLine, type RunProgress } from "./progress.js";

const fixed = (n: number | null | undefined) => (n === null || n === undefined ? "-" : n.toFixed(2));
const oneLine = (text: string, max: number) => {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};
const indent = (text: string) =>
  text
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n");

/** The end of `vex run`/`vex watch`: status, the final answer and the roots. */
export const finalSummary = (progress: RunProgress): string[] => {
  const f = progress.finished;
  if (!f) return [`Run ${progress.runId} did not finish.`];
  const lines = ["", `Status       ${f.status}`, `Confidence   ${fixed(f.confidence)}`];
  if (f.error) lines.push(`Error        ${f.error.code}: ${f.error.message}`);
  if (f.response !== null) lines.push("Answer", indent(f.response));
  lines.push(
    `Merkle root  ${f.merkleRoot ?? "-"}`,
    `Trace root   ${f.traceRoot ?? "-"}`,
    `Run          ${progress.runId}   (vex show ${progress.runId})`,
  );
  return lines;
};

/** `vex show`: everything about one run. */
export const runDetail = (run: RunDetail): string[] => {
  const c = run.config;
  const lines = [
    `Run          ${run.id}`,
    `Status       ${run.status}`,
    `Query        ${oneLine(run.query, 200)}`,
    `Model        ${run.model ?? "-"}`,
    `Config       depth ${c.maxDepth}, ${c.agentsPerLevel} agents per level, ${c.maxDebateRounds} debate rounds, ${c.consensus}, evolution ${c.evolution}, seed ${c.seed}`,
    `Created      ${run.createdAt}${run.completedAt ? `   completed ${run.completedAt}` : ""}`,
    `Confidence   ${fixed(run.confidence)}   levels ${run.levelsProcessed}   tokens ${run.tokensUsed.totalTokens}`,
    `Merkle root  ${run.merkleRoot ?? "-"}`,
    `Trace root   ${run.traceRoot ?? "-"}`,
  ];
  if (run.error) lines.push(`Error        ${run.error.code}: ${run.error.message}`);
  lines.push("", `Agents (${run.agents.length})`);
  for (const a of inTreeOrder([...run.agents].sort((a, b) => a.depth - b.depth))) {
    lines.push(
      `  ${agentLine({
        id: a.id,
        role: a.role,
        name: a.name,
        depth: a.depth,
        parentId: a.parentId,
        state: a.state,
        round: a.result?.debate.rounds.length ?? 0,
        confidence: a.result?.confidence ?? null,
        verified: a.result?.verified ?? null,
        error: a.error ? `${a.error.code}: ${a.error.message}` : null,
      })}`,
    );
  }
  if (run.response !== null) lines.push("", "Answer", indent(run.response));
  return lines;
};

/** `vex runs`: one line per run, newest first, and how to get the next page. */
export const runList = (page: RunPage): string[] => {
  if (page.edges.length === 0) return ["No runs."];
  const rows = page.edges.map(({ node }: { node: Run }) =>
    [
      node.id.padEnd(36),
      node.status.padEnd(11),
      fixed(node.confidence).padStart(4),
      node.createdAt.padEnd(24),
      oneLine(node.query, 60),
    ].join("  "),
  );
  const header = ["ID".padEnd(36), "STATUS".padEnd(11), "CONF", "CREATED".padEnd(24), "QUERY"].join("  ");
  const more =
    page.pageInfo.hasNextPage && page.pageInfo.endCursor
      ? [`More: vex runs --after ${page.pageInfo.endCursor}`]
      : [];
  return [header, ...rows, ...more];
};
