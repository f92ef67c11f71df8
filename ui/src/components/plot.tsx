/** A line plot of values in [0,1] over runs, as inline SVG (no chart library). */

export interface Series {
  readonly name: string;
  readonly color: string;
  /** One value per x position; null leaves a gap. */
  readonly values: readonly (number | null)[];
  /** Drawn thicker, with dots (fitness). */
  readonly emphasis?: boolean;
}

const W = 1000;
const H = 300;
const PAD = { left: 44, right: 16, top: 14, bottom: 40 };

export const LinePlot = ({
  series,
  xLabels,
  title,
  testId,
}: {
  series: readonly Series[];
  xLabels: readonly string[];
  title: string;
  testId?: string;
}) => {
  const n = xLabels.length;
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (n <= 1 ? iw / 2 : (i * iw) / (n - 1));
  const y = (v: number) => PAD.top + (1 - Math.max(0, Math.min(1, v))) * ih;
  const every = Math.max(1, Math.ceil(n / 12));
  const path = (values: readonly (number | null)[]) => {
    let d = "";
    let pen = false;
    values.forEach((v, i) => {
      if (v === null) {
        pen = false;
        return;
      }
      d += `${pen ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    return d;
  };
  return (
    <figure className="plot" data-testid={testId}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title}>
        <title>{title}</title>
        {[0, 0.25, 0.5, 0.75, 1].map((v) => (
          <g key={v}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} className="grid" />
            <text x={PAD.left - 8} y={y(v) + 4} className="tick" textAnchor="end">
              {v.toFixed(2)}
            </text>
          </g>
        ))}
        {xLabels.map((label, i) =>
          i % every === 0 || i === n - 1 ? (
            <text key={label} x={x(i)} y={H - PAD.bottom + 18} className="tick" textAnchor="middle">
              {label}
            </text>
          ) : null,
        )}
        <text x={PAD.left + iw / 2} y={H - 4} className="axis-label" textAnchor="middle">
          runs, oldest → newest
        </text>
        {series.map((s) => (
          <g key={s.name} data-series={s.name}>
            <path
              d={path(s.values)}
              fill="none"
              stroke={s.color}
              strokeWidth={s.emphasis ? 3 : 1.6}
              strokeLinejoin="round"
              strokeLinecap="round"
              opacity={s.emphasis ? 1 : 0.85}
            />
            {s.values.map((v, i) =>
              v === null || (!s.emphasis && n > 1) ? null : (
                // biome-ignore lint/suspicious/noArrayIndexKey: positions are the x axis
                <circle key={i} cx={x(i)} cy={y(v)} r={s.emphasis ? 3.5 : 2.5} fill={s.color}>
                  <title>{`${s.name} ${xLabels[i] ?? ""}: ${v.toFixed(3)}`}</title>
                </circle>
              ),
            )}
          </g>
        ))}
      </svg>
      <figcaption className="legend">
        {series.map((s) => (
          <span key={s.name} className={s.emphasis ? "legend-item legend-strong" : "legend-item"}>
            <span className="swatch" style={{ background: s.color }} />
            {s.name}
          </span>
        ))}
      </figcaption>
    </figure>
  );
};

/** Pearson r in [-1,1] as a diverging bar. */
export const CorrelationBar = ({ r }: { r: number }) => {
  const pct = Math.min(1, Math.abs(r)) * 50;
  return (
    <span className="corr" title={`r = ${r.toFixed(3)}`}>
      <span className="corr-track">
        <span className="corr-mid" />
        <span
          className={r >= 0 ? "corr-fill corr-pos" : "corr-fill corr-neg"}
          style={r >= 0 ? { left: "50%", width: `${pct}%` } : { left: `${50 - pct}%`, width: `${pct}%` }}
        />
      </span>
      <span className="corr-value">{r >= 0 ? `+${r.toFixed(2)}` : r.toFixed(2)}</span>
    </span>
  );
};

/** Trait colours, shared by plots, bars and legends. */
export const TRAIT_COLORS: Readonly<Record<string, string>> = {
  exploration: "#2563eb",
  precision: "#0d9488",
  creativity: "#c026d3",
  skepticism: "#ea580c",
  verbosity: "#64748b",
  fitness: "#111827",
};

export const TRAITS = ["exploration", "precision", "creativity", "skepticism", "verbosity"] as const;
export type Trait = (typeof TRAITS)[number];
