import { useEffect, useRef, useState } from "react";
import type { EventFieldsFragment } from "../../../client/index.js";

const describeEvent = (e: EventFieldsFragment | undefined): string => {
  if (!e) return "before the first event";
  switch (e.__typename) {
    case "AgentStarted":
      return `${e.agent.role} ${e.agent.name} started`;
    case "DebateRoundCompleted":
      return `debate round ${e.round}: ${e.debateRound.outcome.toLowerCase()}`;
    case "AgentCompleted":
      return `${e.agent.role} completed (${e.result.confidence.toFixed(2)})`;
    case "AgentFailed":
      return `agent failed: ${e.error?.code ?? ""}`;
    case "RunFinished":
      return `run finished: ${e.status}`;
    case "EvolutionApplied":
      return `evolution: ${e.record.role} generation ${e.record.generation}`;
    default:
      return e.__typename;
  }
};

/** Replay control over the stored events: step, scrub, or play from the start. */
export const Scrubber = ({
  total,
  shown,
  event,
  live,
  onChange,
}: {
  total: number;
  shown: number;
  event: EventFieldsFragment | undefined;
  live: boolean;
  onChange(n: number): void;
}) => {
  const [playing, setPlaying] = useState(false);
  const shownRef = useRef(shown);
  shownRef.current = shown;
  useEffect(() => {
    if (!playing) return;
    const timer = setInterval(() => {
      const next = shownRef.current + 1;
      onChange(next);
      if (next >= total) setPlaying(false);
    }, 350);
    return () => clearInterval(timer);
  }, [playing, total, onChange]);
  if (total === 0) return null;
  return (
    <div className="scrubber card" data-testid="replay">
      <button
        type="button"
        className="btn btn-small"
        onClick={() => {
          if (shown >= total) onChange(0);
          setPlaying((p) => !p);
        }}
        title="Replay the stored events"
      >
        {playing ? "❚❚ pause" : "▶ replay"}
      </button>
      <button
        type="button"
        className="btn btn-small"
        onClick={() => onChange(Math.max(0, shown - 1))}
        title="Step back"
      >
        ‹
      </button>
      <input
        type="range"
        min={0}
        max={total}
        value={shown}
        onChange={(e) => {
          setPlaying(false);
          onChange(Number(e.target.value));
        }}
        aria-label="Event"
        data-testid="replay-slider"
      />
      <button
        type="button"
        className="btn btn-small"
        onClick={() => onChange(shown + 1)}
        title="Step forward"
      >
        ›
      </button>
      <span className="small scrub-label" data-testid="replay-label">
        event {shown}/{total} · {describeEvent(event)}
        {shown < total ? "" : live ? " · following live" : ""}
      </span>
    </div>
  );
};
