import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import {
  agentTree,
  appendTokens,
  type EventFieldsFragment,
  foldRunEvents,
  isTerminal,
  OrchestrationDocument,
  type RunVerification,
  type TokenStream,
  verifyRun,
} from "../../../client/index.js";
import { AgentTree } from "../components/agent-tree.js";
import { Chip, ErrorBanner, Hash, Meter, when } from "../components/common.js";
import { Scrubber } from "../components/scrubber.js";
import { VerificationResult } from "../components/verification.js";
import { useClient, useQuery } from "../hooks.js";
import { Link } from "../router.js";

/** loading; live (following the run); finished (was followed live, has ended); stored (opened after it ended). */
type Feed = "loading" | "live" | "finished" | "stored";

const FEED_LABEL: Record<Feed, string> = {
  loading: "loading…",
  live: "● live",
  finished: "finished",
  stored: "replayed from stored events",
};

/**
 * Calls `flush` once per animation frame with what was queued since: a replay of thousands of stored
 * events, or a burst of tokens, renders once per frame rather than once per item.
 */
const frameBatcher = <T,>(flush: (items: T[]) => void) => {
  let pending: T[] = [];
  let frame = 0;
  return {
    push(item: T) {
      pending.push(item);
      if (frame === 0) {
        frame = requestAnimationFrame(() => {
          frame = 0;
          const items = pending;
          pending = [];
          flush(items);
        });
      }
    },
    cancel() {
      if (frame !== 0) cancelAnimationFrame(frame);
      frame = 0;
      pending = [];
    },
  };
};

/**
 * One run, followed with the client's `watch` (its stored events replayed, then live, resumed after a
 * dropped connection) and its live tokens, until it finishes. A scrubber replays the stored events step
 * by step.
 */
export const RunPage = ({ id }: { id: string }) => {
  const client = useClient();
  const run = useQuery(OrchestrationDocument, { id });
  const [events, setEvents] = useState<EventFieldsFragment[]>([]);
  const [ended, setEnded] = useState(false);
  const [feedError, setFeedError] = useState<unknown>();
  const [tokens, setTokens] = useState<Record<string, TokenStream>>({});
  const [cursor, setCursor] = useState<number | null>(null);
  const [verification, setVerification] = useState<RunVerification | null>(null);
  const [verifying, setVerifying] = useState(false);
  const [verifyError, setVerifyError] = useState<unknown>();
  const [actionError, setActionError] = useState<unknown>();
  const reloadRun = run.reload;
  // Whether the run had already ended when the page opened it (then nothing it shows is live).
  const openedEnded = useRef<boolean | null>(null);
  const detailStatus = run.data?.orchestration?.status;
  if (openedEnded.current === null && detailStatus !== undefined) {
    openedEnded.current = isTerminal(detailStatus);
  }

  useEffect(() => {
    const abort = new AbortController();
    const { signal } = abort;
    const eventBatch = frameBatcher<EventFieldsFragment>((items) => setEvents((old) => [...old, ...items]));
    const tokenBatch = frameBatcher<{ agentId: string; kind: string; text: string }>((pieces) =>
      setTokens((t) => appendTokens(t, pieces)),
    );
    setEvents([]);
    setEnded(false);
    setTokens({});
    setFeedError(undefined);
    setCursor(null);
    setVerification(null);
    openedEnded.current = null;
    // Tokens are a nicety: the event feed reports connection problems.
    (async () => {
      for await (const t of client.tokens(id, { signal })) tokenBatch.push(t);
    })().catch(() => undefined);
    (async () => {
      for await (const e of client.watch(id, { signal })) eventBatch.push(e);
      if (signal.aborted) return;
      setEnded(true);
      reloadRun();
    })()
      .catch((err: unknown) => {
        if (signal.aborted) return;
        setFeedError(err);
        setEnded(true);
      })
      .finally(() => abort.abort()); // the tokens end with the run
    return () => {
      abort.abort();
      eventBatch.cancel();
      tokenBatch.cancel();
    };
  }, [client, id, reloadRun]);

  const feed: Feed = ended
    ? openedEnded.current
      ? "stored"
      : "finished"
    : openedEnded.current === false && events.length > 0
      ? "live"
      : "loading";

  const shown = cursor === null ? events.length : Math.min(cursor, events.length);
  const view = useMemo(() => foldRunEvents(events, shown), [events, shown]);
  const roots = useMemo(() => agentTree(view), [view]);
  const replaying = cursor !== null && cursor < events.length;
  const proofs = useMemo(
    () =>
      new Map(
        (verification?.checks ?? []).flatMap((c) =>
          c.kind === "inclusion" && c.agentId ? [[c.agentId, c.ok] as const] : [],
        ),
      ),
    [verification],
  );

  const detail = run.data?.orchestration ?? null;
  const finished = view.finished;
  const status = finished?.status ?? detail?.status ?? (events.length > 0 ? "RUNNING" : "PENDING");
  const merkleRoot = finished?.merkleRoot ?? null;
  // An agent's claim waits for a person: the Reviews page decides it.
  const awaitingReview = !finished && Object.values(view.agents).some((a) => a.state === "AWAITING_REVIEW");

  const verify = useCallback(async () => {
    setVerifying(true);
    setVerifyError(undefined);
    try {
      setVerification(await verifyRun(client, id));
    } catch (e) {
      setVerifyError(e);
    } finally {
      setVerifying(false);
    }
  }, [client, id]);

  const cancel = async () => {
    setActionError(undefined);
    try {
      await client.cancelOrchestration(id);
    } catch (e) {
      setActionError(e);
    }
  };

  const agentCount = view.order.length;
  const done = Object.values(view.agents).filter((a) => a.response !== null).length;

  return (
    <section className="page" data-testid="run-page" data-run-id={id}>
      <div className="run-head">
        <div className="run-title">
          <div className="crumbs small">
            <Link to="/runs">History</Link> / <code>{id}</code>
          </div>
          <h1 className="run-query" data-testid="run-query">
            {view.query ?? detail?.query ?? "…"}
          </h1>
          {detail && (
            <div className="meta small muted">
              depth {detail.config.maxDepth} · {detail.config.agentsPerLevel} per level ·{" "}
              {detail.config.maxDebateRounds} rounds ·{" "}
              {detail.config.consensus.toLowerCase().replaceAll("_", " ")} · evolution{" "}
              {detail.config.evolution.toLowerCase().replaceAll("_", " ")} · seed {detail.config.seed}
              {detail.model && <> · {detail.model}</>} · started {when(detail.createdAt)}
            </div>
          )}
        </div>
        <div className="run-status">
          <Chip value={status} testId="run-status" />
          {awaitingReview && (
            <Link to="/reviews" testId="review-link">
              Awaiting review →
            </Link>
          )}
          <span className={`feed feed-${feed}`} data-testid="feed">
            {FEED_LABEL[feed]}
          </span>
          {!isTerminal(status) && feed === "live" && (
            <button type="button" className="btn btn-small" onClick={cancel}>
              Cancel run
            </button>
          )}
        </div>
      </div>
      <ErrorBanner error={run.error ?? feedError ?? actionError} />

      <Scrubber
        total={events.length}
        shown={shown}
        event={events[shown - 1]}
        live={feed === "live"}
        onChange={(n) => setCursor(n >= events.length ? null : n)}
      />

      <div className="run-grid">
        <div className="card">
          <div className="card-head">
            <h2>Agents</h2>
            <span className="muted small" data-testid="agent-progress">
              {done}/{agentCount} answered
            </span>
          </div>
          <AgentTree roots={roots} tokens={replaying ? {} : tokens} proofs={replaying ? new Map() : proofs} />
        </div>

        <aside className="side">
          <div className="card">
            <h2>Final answer</h2>
            {finished?.response ? (
              <p className="answer" data-testid="final-answer">
                {finished.response}
              </p>
            ) : finished?.error ? (
              <p className="agent-error">
                {finished.error.code}: {finished.error.message}
              </p>
            ) : (
              <p className="muted">
                {replaying ? "Not yet, at this point of the replay." : "The root is still working…"}
              </p>
            )}
            <dl className="facts">
              <dt>Confidence</dt>
              <dd data-testid="run-confidence">
                <Meter value={finished?.confidence} label="mean agent confidence" />
              </dd>
              <dt>Levels</dt>
              <dd>{detail?.levelsProcessed ?? "—"}</dd>
              <dt>Tokens</dt>
              <dd>{detail ? detail.tokensUsed.totalTokens.toLocaleString() : "—"}</dd>
              <dt>Anchors</dt>
              <dd>{view.anchors}</dd>
            </dl>
          </div>

          <div className="card">
            <div className="card-head">
              <h2>Provenance</h2>
              <button
                type="button"
                className="btn btn-primary btn-small"
                disabled={!merkleRoot || verifying || replaying}
                onClick={verify}
                data-testid="verify-button"
              >
                {verifying ? "Verifying…" : "Verify in browser"}
              </button>
            </div>
            <div className="label small muted">Merkle root (RFC 6962, SHA-256)</div>
            <Hash value={merkleRoot} testId="merkle-root" />
            <div className="label small muted">Trace root</div>
            <Hash value={finished?.traceRoot ?? null} />
            <ErrorBanner error={verifyError} />
            {verification && <VerificationResult result={verification} />}
          </div>

          {view.evolution.length > 0 && (
            <div className="card">
              <h2>Evolution after this run</h2>
              <ul className="plain">
                {view.evolution.map((r) => (
                  <li key={r.id} className="small">
                    <strong>{r.role}</strong> → generation {r.generation} (
                    {r.kind.toLowerCase().replace("_", "-")}): <span className="muted">{r.reason}</span>
                  </li>
                ))}
              </ul>
              <Link to="/evolution" className="small">
                Open the evolution view →
              </Link>
            </div>
          )}
        </aside>
      </div>
    </section>
  );
};
