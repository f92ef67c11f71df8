import { type FormEvent, useState } from "react";
import {
  type ConsensusProtocol,
  type EvolutionMode,
  StartOrchestrationDocument,
  type StartOrchestrationInput,
} from "../../../client/generated/graphql.js";
import { request } from "../api.js";
import { ErrorBanner } from "../components/common.js";
import { useApiKey } from "../hooks.js";
import { navigate } from "../router.js";

const CONSENSUS: readonly ConsensusProtocol[] = [
  "WEIGHTED_CONFIDENCE",
  "MAJORITY",
  "SUPER_MAJORITY",
  "UNANIMOUS",
];
const EVOLUTION: readonly EvolutionMode[] = ["OFF", "GENETIC", "SELF_CORRECTING"];
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Starts a run and opens its live view. */
export const StartPage = () => {
  const { apiKey } = useApiKey();
  const [query, setQuery] = useState("");
  const [maxDepth, setMaxDepth] = useState(2);
  const [agentsPerLevel, setAgentsPerLevel] = useState(2);
  const [maxDebateRounds, setMaxDebateRounds] = useState(3);
  const [consensus, setConsensus] = useState<ConsensusProtocol>("WEIGHTED_CONFIDENCE");
  const [evolution, setEvolution] = useState<EvolutionMode>("OFF");
  const [seed, setSeed] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();

  const agents = range(0, maxDepth - 1).reduce((sum, d) => sum + agentsPerLevel ** d, 0);

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
      const { startOrchestration: run } = await request(apiKey, StartOrchestrationDocument, { input });
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
          <NumberSelect
            label="Depth"
            name="maxDepth"
            value={maxDepth}
            options={range(1, 4)}
            onChange={setMaxDepth}
          />
          <NumberSelect
            label="Agents per level"
            name="agentsPerLevel"
            value={agentsPerLevel}
            options={range(1, 4)}
            onChange={setAgentsPerLevel}
          />
          <NumberSelect
            label="Debate rounds"
            name="maxDebateRounds"
            value={maxDebateRounds}
            options={range(1, 5)}
            onChange={setMaxDebateRounds}
          />
          <label className="field">
            <span>Consensus</span>
            <select
              name="consensus"
              value={consensus}
              onChange={(e) => setConsensus(e.target.value as ConsensusProtocol)}
            >
              {CONSENSUS.map((c) => (
                <option key={c} value={c}>
                  {c.replaceAll("_", " ").toLowerCase()}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Evolution</span>
            <select
              name="evolution"
              value={evolution}
              onChange={(e) => setEvolution(e.target.value as EvolutionMode)}
            >
              {EVOLUTION.map((m) => (
                <option key={m} value={m}>
                  {m.replaceAll("_", " ").toLowerCase()}
                </option>
              ))}
            </select>
          </label>
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

const NumberSelect = ({
  label,
  name,
  value,
  options,
  onChange,
}: {
  label: string;
  name: string;
  value: number;
  options: readonly number[];
  onChange(value: number): void;
}) => (
  <label className="field">
    <span>{label}</span>
    <select name={name} value={value} onChange={(e) => onChange(Number(e.target.value))}>
      {options.map((o) => (
        <option key={o} value={o}>
          {o}
        </option>
      ))}
    </select>
  </label>
);
