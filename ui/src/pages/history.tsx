import { useState } from "react";
import { OrchestrationsDocument, RUN_STATUSES, type RunStatus } from "../../../client/index.js";
import { Chip, ErrorBanner, Hash, Meter, when } from "../components/common.js";
import { useQuery } from "../hooks.js";
import { Link, navigate } from "../router.js";

/** Runs per page; `?first=N` in the address (1–100) changes it. */
const PAGE_SIZE = 15;
const pageSize = (): number => {
  const n = Number(new URLSearchParams(window.location.search).get("first"));
  return Number.isInteger(n) && n >= 1 && n <= 100 ? n : PAGE_SIZE;
};
/** The statuses to filter by, in lifecycle order (the API's RunStatus values). */
const STATUSES: readonly RunStatus[] = RUN_STATUSES;

/** The tenant's runs, newest first, a page at a time (Relay cursors). */
export const HistoryPage = () => {
  const [status, setStatus] = useState<RunStatus | "">("");
  // Cursors of the pages before the current one; the last is the current page's `after`.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [first] = useState(pageSize);
  const after = cursors.at(-1) ?? null;
  const { data, error, loading, reload } = useQuery(OrchestrationsDocument, {
    first,
    after,
    ...(status === "" ? {} : { status }),
  });
  const page = data?.orchestrations;
  const pageNo = cursors.length;

  return (
    <section className="page" data-testid="history-page">
      <div className="page-head">
        <h1>Run history</h1>
        <label className="field field-inline">
          <span>Status</span>
          <select
            value={status}
            onChange={(e) => {
              setStatus(e.target.value as RunStatus | "");
              setCursors([null]);
            }}
            data-testid="status-filter"
          >
            <option value="">all</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.toLowerCase()}
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="btn btn-small" onClick={reload}>
          Refresh
        </button>
      </div>
      <ErrorBanner error={error} onRetry={reload} />
      <div className="card card-flush">
        <table className="runs" data-testid="runs-table">
          <thead>
            <tr>
              <th>Started</th>
              <th>Question</th>
              <th>Status</th>
              <th>Shape</th>
              <th>Confidence</th>
              <th>Merkle root</th>
            </tr>
          </thead>
          <tbody>
            {page?.edges.map(({ node: run }) => (
              <tr
                key={run.id}
                className="clickable"
                onClick={() => navigate(`/runs/${encodeURIComponent(run.id)}`)}
                data-testid="run-row"
                data-run-id={run.id}
              >
                <td className="nowrap small">{when(run.createdAt)}</td>
                <td className="q">
                  <Link to={`/runs/${encodeURIComponent(run.id)}`}>{run.query}</Link>
                </td>
                <td>
                  <Chip value={run.status} />
                </td>
                <td className="nowrap small muted">
                  depth {run.config.maxDepth} × {run.config.agentsPerLevel}
                </td>
                <td>
                  <Meter value={run.confidence} label="confidence" />
                </td>
                <td>
                  <Hash value={run.merkleRoot} short />
                </td>
              </tr>
            ))}
            {page && page.edges.length === 0 && (
              <tr>
                <td colSpan={6} className="muted empty">
                  No runs yet. <Link to="/">Start one.</Link>
                </td>
              </tr>
            )}
            {!page && loading && (
              <tr>
                <td colSpan={6} className="muted empty">
                  Loading…
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <div className="pager">
        <button
          type="button"
          className="btn btn-small"
          disabled={pageNo <= 1}
          onClick={() => setCursors((c) => c.slice(0, -1))}
          data-testid="newer"
        >
          ← Newer
        </button>
        <span className="small muted">page {pageNo}</span>
        <button
          type="button"
          className="btn btn-small"
          disabled={!page?.pageInfo.hasNextPage}
          onClick={() => setCursors((c) => [...c, page?.pageInfo.endCursor ?? null])}
          data-testid="older"
        >
          Older →
        </button>
      </div>
    </section>
  );
};
