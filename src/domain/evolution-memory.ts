import { clampUnit, TRAIT_NAMES, type TraitName, type Traits } from "./genome.js";
import { AGENT_ROLES, type AgentRole } from "./run.js";

/** Default number of experiments a tenant's memory keeps. */
export const DEFAULT_MEMORY_CAPACITY = 500;
/** Hard ceiling on a memory's capacity; larger requests are capped to it. */
export const MAX_MEMORY_CAPACITY = 10_000;
/** Correlations (and so statistical suggestions) need at least this many experiments. */
export const MIN_EXPERIMENTS_FOR_CORRELATION = 10;
/** A trait is suggested for adjustment only when |r| is strictly greater than this. */
export const CORRELATION_SUGGESTION_THRESHOLD = 0.3;
/** How far a statistical suggestion moves a trait (towards higher fitness), before clamping to [0,1]. */
export const STAT_ADJUSTMENT_STEP = 0.1;
/** Importance halves every week: an experiment's weight for eviction is fitness × 2^(−age / half-life). */
export const IMPORTANCE_HALF_LIFE_MS = 7 * 24 * 60 * 60 * 1000;
/** Below this, Pearson's denominator is treated as zero (no variance) and r as 0. */
export const PEARSON_EPSILON = 1e-10;

/** One agent result remembered for self-correction: the genome it really ran with and the fitness it got. */
export interface Experiment {
  readonly id: string;
  readonly runId: string;
  readonly agentId: string;
  readonly role: AgentRole;
  readonly traits: Traits;
  /** In [0,1]. */
  readonly fitness: number;
  readonly recordedAt: Date;
  /** Starts at `fitness`, decays with age (see {@link EvolutionMemory.decay}); lowest is evicted first. */
  readonly importance: number;
}

/** What the caller records; importance starts at the fitness. */
export type NewExperiment = Omit<Experiment, "importance">;

/** Pearson r between each trait and fitness. Empty below {@link MIN_EXPERIMENTS_FOR_CORRELATION}. */
export type TraitCorrelations = Readonly<Partial<Record<TraitName, number>>>;

/** A statistical suggestion: move `trait` one step in the direction that correlates with higher fitness. */
export interface TraitSuggestion {
  readonly trait: TraitName;
  readonly current: number;
  readonly suggested: number;
  /** Pearson r between the trait and fitness. */
  readonly correlation: number;
  /** |r|. */
  readonly confidence: number;
}

export interface EvolutionMemoryOptions {
  /** Default {@link DEFAULT_MEMORY_CAPACITY}; capped at {@link MAX_MEMORY_CAPACITY}; must be a positive integer. */
  readonly capacity?: number;
  /** Stored experiments to rebuild from (after a restart); any order, they are sorted by `recordedAt`. */
  readonly experiments?: readonly Experiment[];
}

/** Restricts statistics to one role's experiments (roles differ systematically, so mixing them can mislead). */
export interface StatisticsFilter {
  readonly role?: AgentRole;
}

/**
 * Pearson correlation coefficient of two samples.
 *
 * Returns 0 — "no usable signal" — when the input is empty or the lengths differ, when any value is NaN or
 * ±Inf, when either sample has (numerically) no variance (|denominator| < {@link PEARSON_EPSILON}), or when
 * the result is not finite. Otherwise r clamped to [−1,1].
 *
 * Both samples are first scaled by their largest magnitude (r is scale-invariant) and then centred (two-pass),
 * so huge values such as 1e300 neither overflow nor lose the signal to cancellation. The epsilon applies to
 * the scaled samples.
 */
export const pearson = (x: readonly number[], y: readonly number[]): number => {
  const n = x.length;
  if (n === 0 || n !== y.length) return 0;
  let maxX = 0;
  let maxY = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[i]!;
    const yi = y[i]!;
    if (!Number.isFinite(xi) || !Number.isFinite(yi)) return 0;
    maxX = Math.max(maxX, Math.abs(xi));
    maxY = Math.max(maxY, Math.abs(yi));
  }
  if (maxX === 0 || maxY === 0) return 0;
  let meanX = 0;
  let meanY = 0;
  for (let i = 0; i < n; i++) {
    meanX += x[i]! / maxX;
    meanY += y[i]! / maxY;
  }
  meanX /= n;
  meanY /= n;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! / maxX - meanX;
    const dy = y[i]! / maxY - meanY;
    sxx += dx * dx;
    syy += dy * dy;
    sxy += dx * dy;
  }
  const denominator = Math.sqrt(sxx * syy);
  if (!Number.isFinite(denominator) || Math.abs(denominator) < PEARSON_EPSILON) return 0;
  const r = sxy / denominator;
  if (!Number.isFinite(r)) return 0;
  return Math.min(1, Math.max(-1, r));
};

const isUnit = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0 && v <= 1;
const isValidDate = (d: unknown): d is Date => d instanceof Date && Number.isFinite(d.getTime());

const validateExperiment = (e: NewExperiment & { importance?: number }, withImportance: boolean): Entry => {
  const problems: string[] = [];
  if (typeof e.id !== "string" || e.id.length === 0) problems.push("id must be a non-empty string");
  if (typeof e.runId !== "string") problems.push("runId must be a string");
  if (typeof e.agentId !== "string") problems.push("agentId must be a string");
  if (!(AGENT_ROLES as readonly string[]).includes(e.role)) problems.push(`unknown role ${String(e.role)}`);
  for (const name of TRAIT_NAMES) {
    if (!isUnit(e.traits?.[name])) problems.push(`trait ${name} must be a number in [0,1]`);
  }
  if (!isUnit(e.fitness)) problems.push("fitness must be a number in [0,1]");
  if (!isValidDate(e.recordedAt)) problems.push("recordedAt must be a valid Date");
  const importance = withImportance ? e.importance : e.fitness;
  if (withImportance && !(typeof importance === "number" && Number.isFinite(importance) && importance >= 0)) {
    problems.push("importance must be a finite number ≥ 0");
  }
  if (problems.length > 0) throw new Error(`Invalid experiment ${String(e.id)}: ${problems.join("; ")}`);
  const traits = Object.freeze(Object.fromEntries(TRAIT_NAMES.map((n) => [n, e.traits[n]]))) as Traits;
  return {
    base: Object.freeze({
      id: e.id,
      runId: e.runId,
      agentId: e.agentId,
      role: e.role,
      traits,
      fitness: e.fitness,
      recordedAt: new Date(e.recordedAt.getTime()),
    }),
    at: e.recordedAt.getTime(),
    importance: importance as number,
  };
};

/** Internal, mutable only in `importance`; exposed as a frozen {@link Experiment} copy. */
interface Entry {
  readonly base: NewExperiment;
  /** recordedAt in ms. */
  readonly at: number;
  importance: number;
}

const toExperiment = (x: Entry): Experiment =>
  Object.freeze({ ...x.base, recordedAt: new Date(x.at), importance: x.importance });

/**
 * One tenant's experiment memory for SELF_CORRECTING evolution. Not shared between tenants: keep one
 * instance per tenant.
 *
 * Invariants:
 * - Experiments are kept **oldest → newest** by `recordedAt` (ties: the order they were recorded), and
 *   `oldest(n)` really returns the oldest.
 * - Size ≤ capacity. Over capacity, the experiment with the lowest importance (ties: the oldest) is evicted;
 *   the others keep their order.
 * - Ids are unique.
 * - Correlations are computed from the current contents on every call: nothing is cached, so nothing is stale.
 */
export class EvolutionMemory {
  readonly capacity: number;
  private items: Entry[] = [];

  /** @throws Error on an invalid capacity or an invalid/duplicate stored experiment. */
  constructor(options: EvolutionMemoryOptions = {}) {
    const capacity = options.capacity ?? DEFAULT_MEMORY_CAPACITY;
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new Error(`EvolutionMemory: capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = Math.min(capacity, MAX_MEMORY_CAPACITY);
    const restored = (options.experiments ?? []).map((e) => validateExperiment(e, true));
    const ids = new Set<string>();
    for (const { base } of restored) {
      if (ids.has(base.id)) throw new Error(`EvolutionMemory: duplicate experiment id ${base.id}`);
      ids.add(base.id);
    }
    // Array.prototype.sort is stable: equal timestamps keep their stored order.
    this.items = restored.sort((a, b) => a.at - b.at);
    this.evictOverflow();
  }

  get size(): number {
    return this.items.length;
  }

  /** Experiments held, optionally only one role's (the sample that role's statistics come from). */
  count(filter: StatisticsFilter = {}): number {
    if (filter.role === undefined) return this.items.length;
    let n = 0;
    for (const x of this.items) if (x.base.role === filter.role) n++;
    return n;
  }

  /**
   * Records an experiment with importance = fitness. Existing importances are first decayed to its
   * `recordedAt` (so eviction compares like with like); then, if over capacity, the lowest-importance
   * experiments are evicted — possibly the new one.
   *
   * @returns the evicted experiments (usually none).
   * @throws Error on invalid fields or a duplicate id.
   */
  record(experiment: NewExperiment): readonly Experiment[] {
    const e = validateExperiment(experiment, false);
    if (this.items.some((x) => x.base.id === e.base.id)) {
      throw new Error(`EvolutionMemory: duplicate experiment id ${e.base.id}`);
    }
    this.decayTo(e.at);
    let at = this.items.length;
    while (at > 0 && this.items[at - 1]!.at > e.at) at--;
    this.items.splice(at, 0, e);
    return this.evictOverflow();
  }

  /**
   * Exponential decay: importance becomes fitness × 2^(−age / {@link IMPORTANCE_HALF_LIFE_MS}), age =
   * now − recordedAt (≥ 0). Idempotent, and importance never increases (a clock going backwards or a
   * lower stored importance is kept).
   */
  decay(now: Date): void {
    if (!isValidDate(now)) throw new Error("EvolutionMemory.decay: now must be a valid Date");
    this.decayTo(now.getTime());
  }

  private decayTo(nowMs: number): void {
    for (const x of this.items) {
      const age = Math.max(0, nowMs - x.at);
      x.importance = Math.min(x.importance, x.base.fitness * 2 ** (-age / IMPORTANCE_HALF_LIFE_MS));
    }
  }

  /**
   * Pearson r between each trait and fitness over the current experiments (optionally one role's).
   * Empty when fewer than {@link MIN_EXPERIMENTS_FOR_CORRELATION} experiments qualify; otherwise every trait
   * has an entry (0 when there is no usable signal).
   */
  correlations(filter: StatisticsFilter = {}): TraitCorrelations {
    const all = this.items.map((x) => x.base);
    const pool = filter.role === undefined ? all : all.filter((e) => e.role === filter.role);
    if (pool.length < MIN_EXPERIMENTS_FOR_CORRELATION) return Object.freeze({});
    const fitness = pool.map((e) => e.fitness);
    const out: Partial<Record<TraitName, number>> = {};
    for (const name of TRAIT_NAMES) {
      out[name] = pearson(
        pool.map((e) => e.traits[name]),
        fitness,
      );
    }
    return Object.freeze(out);
  }

  /**
   * One suggestion per trait whose |r| > {@link CORRELATION_SUGGESTION_THRESHOLD}: move it by
   * ±{@link STAT_ADJUSTMENT_STEP} in the direction of r, clamped to [0,1]; confidence = |r|. In
   * {@link TRAIT_NAMES} order. A trait already at the bound it would move towards gets no suggestion.
   */
  suggestAdjustments(traits: Traits, filter: StatisticsFilter = {}): TraitSuggestion[] {
    const correlations = this.correlations(filter);
    const out: TraitSuggestion[] = [];
    for (const trait of TRAIT_NAMES) {
      const r = correlations[trait];
      if (r === undefined || !(Math.abs(r) > CORRELATION_SUGGESTION_THRESHOLD)) continue;
      const current = traits[trait];
      const suggested = clampUnit(current + (r > 0 ? STAT_ADJUSTMENT_STEP : -STAT_ADJUSTMENT_STEP));
      if (suggested === current) continue;
      out.push(Object.freeze({ trait, current, suggested, correlation: r, confidence: Math.abs(r) }));
    }
    return out;
  }

  /** The `n` oldest experiments, oldest first (for consolidation). */
  oldest(n: number): readonly Experiment[] {
    if (!Number.isInteger(n) || n < 0)
      throw new Error(`EvolutionMemory.oldest: n must be an integer ≥ 0, got ${n}`);
    return this.items.slice(0, n).map(toExperiment);
  }

  /**
   * Removes exactly the experiments with these ids, and nothing else; the rest keep their order.
   * Ids no longer present (e.g. evicted meanwhile) are ignored.
   *
   * @returns the removed experiments, oldest first.
   */
  removeExactly(ids: Iterable<string>): readonly Experiment[] {
    const wanted = new Set(ids);
    const removed: Experiment[] = [];
    const kept: Entry[] = [];
    for (const x of this.items) {
      if (wanted.has(x.base.id)) removed.push(toExperiment(x));
      else kept.push(x);
    }
    this.items = kept;
    return removed;
  }

  /** Every experiment, oldest first (what to persist; feed it back via `experiments` to rebuild). */
  snapshot(): readonly Experiment[] {
    return this.items.map(toExperiment);
  }

  private evictOverflow(): Experiment[] {
    const evicted: Experiment[] = [];
    while (this.items.length > this.capacity) {
      let victim = 0;
      for (let i = 1; i < this.items.length; i++) {
        if (this.items[i]!.importance < this.items[victim]!.importance) victim = i;
      }
      evicted.push(...this.items.splice(victim, 1).map(toExperiment));
    }
    return evicted;
  }
}
