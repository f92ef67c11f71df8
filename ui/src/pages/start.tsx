import { type FormEvent, useState } from "react";
import {
  agentCount,
  CONSENSUS_PROTOCOLS,
  type ConsensusProtocol,
  DEFAULT_AGENTS_PER_LEVEL,
  DEFAULT_CONSENSUS,
  DEFAULT_EVOLUTION,
  DEFAULT_MAX_DEBATE_ROUNDS,
  DEFAULT_MAX_DEPTH,
  EVOLUTION_MODES,
  type EvolutionMode,
  MAX_AGENTS_PER_LEVEL,
  MAX_DEBATE_ROUNDS,
  MAX_DEPTH,
  type StartOrchestrationInput,
} from "../../../client/index.js";
import { ErrorBanner } from "../components/common.js";
import { useClient } from "../hooks.js";
import { navigate } from "../router.js";

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Starts a run and opens its live view. */
export const StartPage = () => {
  const client = useClient();
  const [query, setQuery] = useState("");
  const [maxDepth, setMaxDepth] = useState(DEFAULT_MAX_DEPTH);
  const [agentsPerLevel, setAgentsPerLevel] = useState(DEFAULT_AGENTS_PER_LEVEL);
  const [maxDebateRounds, setMaxDebateRounds] = useState(DEFAULT_MAX_DEBATE_ROUNDS);
  const [consensus, setConsensus] = useState<ConsensusProtocol>(DEFAULT_CONSENSUS);
  const [evolution, setEvolution] = useState<EvolutionMode>(DEFAULT_EVOLUTION);
  const [seed, setSeed] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();

  const agents = agentCount({ maxDepth, agentsPerLevel });

  const start = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    const input: StartOrchestrationInput = {
      query: query.trim(),
      maxDepth,
      agentsPerLevel,
      maxDebateRounds,
      consensus,
      evolution,
      ...(seed.trim() === "" ? {} : { seed: Number(seed) }),
    };
    try {
      const run = await client.startOrchestration(input);
      navigate(`/runs/${encodeURIComponent(run.id)}`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <section className="page page-narrow">
      <h1>Start a run</h1>
      <p className="lede">
        A root coordinator spawns a Researcher and a Critic (and deeper levels with more depth); a shadow
        challenges every answer in a debate; the root synthesises. Watch it live, then verify every result's
        inclusion proof in this browser.
      </p>
      <form className="card form" onSubmit={start} data-testid="start-form">
        <label className="field field-wide">
          <span>Question</span>
          <textarea
            name="query"
            rows={3}
            required
            placeholder="What should the agents work out?"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            data-testid="query-input"
          />
        </label>
        <div className="fields">
          <Select
            label="Depth"
            name="maxDepth"
            value={maxDepth}
            options={range(1, MAX_DEPTH)}
            onChange={(v) => setMaxDepth(v)}
          />
          <Select
            label="Agents per level"
            name="agentsPerLevel"
            value={agentsPerLevel}
            options={range(1, MAX_AGENTS_PER_LEVEL)}
            onChange={(v) => setAgentsPerLevel(v)}
          />
          <Select
            label="Debate rounds"
            name="maxDebateRounds"
            value={maxDebateRounds}
            options={range(1, MAX_DEBATE_ROUNDS)}
            onChange={(v) => setMaxDebateRounds(v)}
          />
          <Select
            label="Consensus"
            name="consensus"
            value={consensus}
            options={CONSENSUS_PROTOCOLS}
            onChange={(v) => setConsensus(v)}
          />
          <Select
            label="Evolution"
            name="evolution"
            value={evolution}
            options={EVOLUTION_MODES}
            onChange={(v) => setEvolution(v)}
          />
          <label className="field">
            <span>Seed (optional)</span>
            <input
              name="seed"
              type="number"
              inputMode="numeric"
              min={0}
              step={1}
              value={seed}
              onChange={(e) => setSeed(e.target.value)}
              placeholder="random"
            />
          </label>
        </div>
        <div className="form-foot">
          <span className="muted small">
            {agents} agent{agents === 1 ? "" : "s"} in {maxDepth} level{maxDepth === 1 ? "" : "s"}
          </span>
          <button
            type="submit"
            className="btn btn-primary"
            disabled={busy || query.trim() === ""}
            data-testid="start-button"
          >
            {busy ? "Starting…" : "Start run"}
          </button>
        </div>
      </form>
      <ErrorBanner error={error} />
    </section>
  );
};

/** A labelled select over numbers (shown as they are) or enum values (shown as lower-case words). */
const Select = <T extends number | string>({
  label,
  name,
  value,
  options,
  onChange,
}: {
  label: string;
  name: string;
  value: T;
  options: readonly T[];
  onChange(value: T): void;
}) => (
  <label className="field">
    <span>{label}</span>
    <select name={name} value={value} onChange={(e) => onChange(options[e.target.selectedIndex] as T)}>
      {options.map((o) => (
        <option key={o} value={o}>
          {typeof o === "number" ? o : o.replaceAll("_", " ").toLowerCase()}
        </option>
      ))}
    </select>
  </label>
);
