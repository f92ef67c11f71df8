import { useEffect, useMemo, useState } from "react";
import {
  AGENT_ROLES,
  type AgentRole,
  AgentsDocument,
  type AgentsQuery,
  type EvolutionRecordFieldsFragment,
  EvolutionRecordsDocument,
  GenePoolDocument,
  type GenePoolQuery,
  RulesDocument,
  TraitCorrelationsDocument,
} from "../../../client/index.js";
import { ErrorBanner, Meter, RoleBadge, when } from "../components/common.js";
import { CorrelationBar, LinePlot, type Series, TRAIT_COLORS, TRAITS } from "../components/plot.js";
import { useClient, useQuery } from "../hooks.js";
import { Link } from "../router.js";

const ROLES: readonly AgentRole[] = AGENT_ROLES;
/** Agents per role the plot looks back over (the API's largest page). */
const PLOT_AGENTS = 100;

/** The tenant's gene pool per role, traits and fitness over runs, evolution steps, rules, correlations. */
export const EvolutionPage = () => {
  const client = useClient();
  const [role, setRole] = useState<AgentRole>("RESEARCHER");
  const pool = useQuery(GenePoolDocument, {});
  const agents = useQuery(AgentsDocument, { first: PLOT_AGENTS, role });
  const records = useQuery(EvolutionRecordsDocument, { first: 12 });
  const correlations = useQuery(TraitCorrelationsDocument, { role });
  const rules = useQuery(RulesDocument, { first: 20 });
  const [live, setLive] = useState<EvolutionRecordFieldsFragment[]>([]);
  const [liveError, setLiveError] = useState<unknown>();
  const reloadPool = pool.reload;
  const reloadAgents = agents.reload;

  useEffect(() => {
    setLive([]);
    setLiveError(undefined);
    const abort = new AbortController();
    (async () => {
      for await (const r of client.evolution.events({ signal: abort.signal })) {
        setLive((old) => [r, ...old.filter((o) => o.id !== r.id)]);
        reloadPool();
        reloadAgents();
      }
    })().catch((e: unknown) => {
      if (!abort.signal.aborted) setLiveError(e);
    });
    return () => abort.abort();
  }, [client, reloadPool, reloadAgents]);

  const history = useMemo(() => {
    const stored = records.data?.evolutionRecords.edges.map((e) => e.node) ?? [];
    const ids = new Set(live.map((r) => r.id));
    return [...live, ...stored.filter((r) => !ids.has(r.id))];
  }, [live, records.data]);

  const error = pool.error ?? agents.error ?? records.error ?? correlations.error ?? rules.error ?? liveError;

  return (
    <section className="page" data-testid="evolution-page">
      <div className="page-head">
        <h1>Evolution</h1>
        <span className="muted small">
          Per role, the genome the next agent runs with; how traits and fitness moved over runs; what was
          learned.
        </span>
      </div>
      <ErrorBanner error={error} />

      <div className="pool" data-testid="gene-pool">
        {pool.data?.genePool.length === 0 && (
          <p className="muted">
            No genomes yet: the pool fills with the first run. <Link to="/">Start one.</Link>
          </p>
        )}
        {pool.data?.genePool.map((entry) => (
          <PoolCard key={entry.role} entry={entry} />
        ))}
      </div>

      <div className="card">
        <div className="card-head">
          <h2>Traits and fitness over runs</h2>
          <RolePicker role={role} onChange={setRole} />
        </div>
        <TraitPlot role={role} data={agents.data} />
      </div>

      <div className="two-col">
        <div className="card">
          <div className="card-head">
            <h2>Trait ↔ fitness correlation</h2>
            <span className="muted small">{role.toLowerCase()}, Pearson r</span>
          </div>
          {correlations.data && correlations.data.traitCorrelations.length === 0 ? (
            <p className="muted" data-testid="correlations-empty">
              Needs at least 10 experiments of this role (self-correcting runs record them).
            </p>
          ) : (
            <table className="corr-table" data-testid="correlations">
              <tbody>
                {correlations.data?.traitCorrelations.map((c) => (
                  <tr key={`${c.trait}-${c.role ?? ""}`}>
                    <td>{c.trait}</td>
                    <td>
                      <CorrelationBar r={c.correlation} />
                    </td>
                    <td className="muted small">n = {c.sampleSize}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
        <div className="card">
          <h2>Learned rules</h2>
          {rules.data && rules.data.rules.edges.length === 0 ? (
            <p className="muted" data-testid="rules-empty">
              None yet: self-correcting runs consolidate every 70 experiments into rules.
            </p>
          ) : (
            <ul className="plain rules" data-testid="rules">
              {rules.data?.rules.edges.map(({ node: r }) => (
                <li key={r.id}>
                  <div>{r.description}</div>
                  <div className="small muted">
                    confidence {r.confidence.toFixed(2)} · traits {r.traits.join(", ") || "—"} · from{" "}
                    {r.sourceExperimentCount} experiments · {when(r.createdAt)}
                  </div>
                </li>
              ))}
            </ul>
          )}
        </div>
      </div>

      <div className="card card-flush">
        <div className="card-head card-pad">
          <h2>Evolution steps</h2>
          <span className="muted small">newest first; new ones appear live</span>
        </div>
        {history.length === 0 ? (
          <p className="muted card-pad" data-testid="records-empty">
            No evolution yet: start a run with evolution “genetic” or “self-correcting”.
          </p>
        ) : (
          <table className="records" data-testid="evolution-records">
            <thead>
              <tr>
                <th>When</th>
                <th>Role</th>
                <th>Kind</th>
                <th>Gen.</th>
                <th>Trait changes</th>
                <th>Why</th>
              </tr>
            </thead>
            <tbody>
              {history.map((r) => (
                <tr key={r.id} data-testid="evolution-record">
                  <td className="nowrap small">{when(r.at)}</td>
                  <td>
                    <RoleBadge role={r.role} />
                  </td>
                  <td className="small">{r.kind.toLowerCase().replace("_", "-")}</td>
                  <td>{r.generation}</td>
                  <td className="small">
                    <TraitDeltas record={r} />
                  </td>
                  <td className="small muted">{r.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </section>
  );
};

const RolePicker = ({ role, onChange }: { role: AgentRole; onChange(role: AgentRole): void }) => (
  <div className="segmented" role="tablist">
    {ROLES.map((r) => (
      <button
        key={r}
        type="button"
        role="tab"
        aria-selected={r === role}
        className={r === role ? "seg seg-on" : "seg"}
        onClick={() => onChange(r)}
      >
        {r.toLowerCase()}
      </button>
    ))}
  </div>
);

const PoolCard = ({ entry }: { entry: GenePoolQuery["genePool"][number] }) => {
  const g = entry.genome;
  return (
    <div className="card pool-card" data-testid="pool-role" data-role={entry.role}>
      <div className="card-head">
        <h2>{entry.role}</h2>
        <span className="small muted">
          gen {entry.generation} · pool {entry.poolSize}
        </span>
      </div>
      <dl className="traits">
        {TRAITS.map((t) => (
          <div key={t} className="trait">
            <dt>
              <span className="swatch" style={{ background: TRAIT_COLORS[t] }} />
              {t}
            </dt>
            <dd>
              <Meter value={g[t]} label={t} color={TRAIT_COLORS[t]} />
            </dd>
          </div>
        ))}
      </dl>
      <div className="small muted">
        fitness mean {fmt(entry.fitness.mean)} · best {fmt(entry.fitness.best)} · last{" "}
        {fmt(entry.fitness.last)} · {entry.fitness.evaluations} eval.
      </div>
      {g.llmParams && (
        <div className="small muted">
          temperature {fmt(g.llmParams.temperature ?? null)} · top_p {fmt(g.llmParams.topP ?? null)} ·
          max_tokens {g.llmParams.maxTokens}
        </div>
      )}
    </div>
  );
};

const fmt = (v: number | null) => (v === null ? "—" : v.toFixed(2));

/** Per run (oldest first) the mean traits and fitness of the role's agents in it. */
const TraitPlot = ({ role, data }: { role: AgentRole; data: AgentsQuery | undefined }) => {
  const runs = useMemo(() => {
    const byRun = new Map<string, AgentsQuery["agents"]["edges"][number]["node"][]>();
    // The API lists newest first; the plot reads left to right, oldest first.
    for (const { node } of [...(data?.agents.edges ?? [])].reverse()) {
      byRun.set(node.orchestrationId, [...(byRun.get(node.orchestrationId) ?? []), node]);
    }
    return [...byRun.values()];
  }, [data]);
  if (!data) return <p className="muted">Loading…</p>;
  if (runs.length === 0) return <p className="muted">No {role.toLowerCase()} agents yet.</p>;
  const mean = (values: number[]) =>
    values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
  const series: Series[] = [
    ...TRAITS.map((t) => ({
      name: t,
      color: TRAIT_COLORS[t] ?? "#000",
      values: runs.map((agents) => mean(agents.map((a) => a.genome[t]))),
    })),
    {
      name: "fitness",
      color: TRAIT_COLORS.fitness ?? "#000",
      emphasis: true,
      values: runs.map((agents) => mean(agents.flatMap((a) => fitnessOf(a)))),
    },
  ];
  return (
    <LinePlot
      series={series}
      xLabels={runs.map((_, i) => `#${i + 1}`)}
      title={`${role} traits and fitness over the last ${runs.length} runs`}
      testId="trait-plot"
    />
  );
};

/** An agent's fitness: its recorded fitness, else its result's confidence; none when it has neither. */
const fitnessOf = (a: AgentsQuery["agents"]["edges"][number]["node"]): number[] => {
  const f = a.fitness ?? a.result?.confidence;
  return f === undefined || f === null ? [] : [f];
};

const TraitDeltas = ({ record }: { record: EvolutionRecordFieldsFragment }) => {
  const changes = TRAITS.filter((t) => Math.abs(record.after[t] - record.before[t]) >= 0.005);
  if (changes.length === 0) return <span className="muted">no change</span>;
  return (
    <span className="deltas">
      {changes.map((t) => {
        const d = record.after[t] - record.before[t];
        return (
          <span key={t} className={d > 0 ? "delta up" : "delta down"}>
            {t} {record.before[t].toFixed(2)}→{record.after[t].toFixed(2)}
          </span>
        );
      })}
    </span>
  );
};
