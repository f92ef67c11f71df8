import { useState } from "react";
import {
  PendingReviewsDocument,
  type PendingReviewsQuery,
  type ReviewDecision,
} from "../../../client/index.js";
import { ErrorBanner, RoleBadge, when } from "../components/common.js";
import { useClient, useQuery } from "../hooks.js";
import { Link } from "../router.js";

type PendingReview = PendingReviewsQuery["pendingReviews"]["edges"][number]["node"];

/** Reviews shown per page. */
const PAGE_SIZE = 20;

/** One pending claim and the form that decides it: approve, reject, or revise with new text. */
const ReviewCard = ({ review, onDecided }: { review: PendingReview; onDecided: () => void }) => {
  const client = useClient();
  const [revision, setRevision] = useState(review.claim);
  const [comment, setComment] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const decide = async (decision: ReviewDecision) => {
    setBusy(true);
    setError(null);
    try {
      await client.submitReview({
        orchestrationId: review.orchestrationId,
        reviewId: review.id,
        decision,
        ...(decision === "REVISE" ? { revision } : {}),
        ...(comment.trim() ? { comment } : {}),
      });
      onDecided();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <article className="card" data-testid="review-card" data-review-id={review.id}>
      <div className="page-head">
        <RoleBadge role={review.role} />
        <span className="small muted">
          debate {review.debate.verdict.toLowerCase()} · waits until {when(review.deadline)}
        </span>
        <span className="spacer" />
        <Link to={`/runs/${encodeURIComponent(review.orchestrationId)}`}>run</Link>
      </div>
      <pre className="claim" data-testid="review-claim">
        {review.claim}
      </pre>
      <label className="field">
        <span>Revised claim (for Revise)</span>
        <textarea
          value={revision}
          onChange={(e) => setRevision(e.target.value)}
          data-testid="review-revision"
        />
      </label>
      <label className="field">
        <span>Comment (optional, recorded with the decision)</span>
        <input value={comment} onChange={(e) => setComment(e.target.value)} data-testid="review-comment" />
      </label>
      <ErrorBanner error={error} />
      <div className="pager">
        <button
          type="button"
          className="btn"
          disabled={busy}
          onClick={() => decide("APPROVE")}
          data-testid="approve"
        >
          Approve
        </button>
        <button
          type="button"
          className="btn"
          disabled={busy}
          onClick={() => decide("REJECT")}
          data-testid="reject"
        >
          Reject
        </button>
        <button
          type="button"
          className="btn"
          disabled={busy || !revision.trim()}
          onClick={() => decide("REVISE")}
          data-testid="revise"
        >
          Revise
        </button>
      </div>
    </article>
  );
};

/** The tenant's claims waiting for a person; deciding one continues its run. */
export const ReviewsPage = () => {
  const { data, error, loading, reload } = useQuery(PendingReviewsDocument, { first: PAGE_SIZE });
  const reviews = data?.pendingReviews.edges.map((e) => e.node) ?? [];
  return (
    <section className="page" data-testid="reviews-page">
      <div className="page-head">
        <h1>Reviews</h1>
        <button type="button" className="btn btn-small" onClick={reload}>
          Refresh
        </button>
      </div>
      <ErrorBanner error={error} onRetry={reload} />
      {reviews.map((r) => (
        <ReviewCard key={r.id} review={r} onDecided={reload} />
      ))}
      {data && reviews.length === 0 && (
        <p className="muted" data-testid="no-reviews">
          No reviews are waiting.
        </p>
      )}
      {!data && loading && <p className="muted">Loading…</p>}
    </section>
  );
};
