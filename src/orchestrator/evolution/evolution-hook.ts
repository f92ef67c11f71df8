import { AppError, ErrorCode } from "../../domain/errors.js";
import type {
  AppliedAdjustment,
  EvolutionKind,
  EvolutionRecord,
  PoolMember,
  TenantExperiment,
} from "../../domain/evolution.js";
import { NO_FITNESS } from "../../domain/evolution.js";
import { MIN_EXPERIMENTS_FOR_CORRELATION } from "../../domain/evolution-memory.js";
import type { Genome, Traits } from "../../domain/genome.js";
import { createSeededRng } from "../../domain/random.js";
import type { ReflectionAdjustment } from "../../domain/reflection.js";
import { AGENT_ROLES, type Agent, type AgentRole } from "../../domain/run.js";
import type { RunCompletion, RunHook } from "../hooks.js";
import { maybeConsolidate } from "./consolidation.js";
import type { EvolutionContext } from "./context.js";
import { MAX_REASON_REASONING_CHARS } from "./defaults.js";
import {
  adoptOffspring,
  buildPools,
  currentGenome,
  fitnessObservation,
  type RolePool,
  rolePool,
  withMember,
} from "./gene-pool.js";
import { geneticStep } from "./genetic-step.js";
import { reflect } from "./reflection-llm.js";
import { roleSampleSize, selfCorrectingStep } from "./self-correcting-step.js";
import type { TenantState } from "./tenant-cache.js";

type Scored = Agent & { readonly fitness: number; readonly result: NonNullable<Agent["result"]> };

/** A change to a role's genome, before it is given ids and stored. */
interface Change {
  readonly kind: EvolutionKind;
  readonly traits: Traits;
  readonly parentIds: readonly string[];
  readonly generation: number;
  readonly reason: string;
  readonly adjustments: readonly AppliedAdjustment[];
}

const f3 = (x: number): string => x.toFixed(3);
const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);

const poolOf = (state: TenantState, role: AgentRole): RolePool => rolePool(state.pools, role);

const setPool = (state: TenantState, pool: RolePool): void => {
  state.pools = new Map(state.pools).set(pool.role, pool);
};

/** The role whose agents scored lowest on average this run; ties go to the earlier role in AGENT_ROLES. */
export const worstRole = (scored: readonly Scored[]): { role: AgentRole; fitness: number } | null => {
  let worst: { role: AgentRole; fitness: number } | null = null;
  for (const role of AGENT_ROLES) {
    const own = scored.filter((a) => a.role === role);
    if (own.length === 0) continue;
    const fitness = mean(own.map((a) => a.fitness));
    if (worst === null || fitness < worst.fitness) worst = { role, fitness };
  }
  return worst;
};

/**
 * Every agent's fitness goes to the genome it ran with (in every mode, OFF included). The store adds
 * it atomically, so another worker scoring the same genome loses nothing; the members it returns carry
 * both workers' observations.
 */
const recordPoolFitness = async (
  ctx: EvolutionContext,
  state: TenantState,
  scored: readonly Scored[],
  now: Date,
) => {
  const observations = scored.flatMap(
    (agent) => fitnessObservation(poolOf(state, agent.role), agent.genome, agent.fitness, now) ?? [],
  );
  for (const member of await ctx.store.pools.addFitness(state.tenantId, observations))
    setPool(state, withMember(poolOf(state, member.role), member));
};

/** SELF_CORRECTING: each agent result becomes an experiment with the genome it really ran with. */
const recordExperiments = async (
  ctx: EvolutionContext,
  state: TenantState,
  runId: string,
  scored: readonly Scored[],
  now: Date,
) => {
  const experiments = scored.map(
    (a): TenantExperiment => ({
      id: ctx.ids.next(),
      tenantId: state.tenantId,
      runId,
      agentId: a.id,
      role: a.role,
      traits: a.genome.traits,
      fitness: a.fitness,
      recordedAt: now,
      importance: a.fitness,
    }),
  );
  await ctx.store.experiments.append(state.tenantId, experiments);
  const evicted = experiments.flatMap((e) => state.memory.record(e));
  if (evicted.length > 0)
    await ctx.store.experiments.removeExactly(
      state.tenantId,
      evicted.map((e) => e.id),
    );
};

/** Reflection (when the role has enough experiments for statistics to corroborate it), then the step. */
const trySelfCorrect = async (
  ctx: EvolutionContext,
  state: TenantState,
  completion: RunCompletion,
  worst: { role: AgentRole; fitness: number },
  current: Genome,
  scored: readonly Scored[],
): Promise<{ change: Change | null; reason: string }> => {
  const { role } = worst;
  const sampleSize = roleSampleSize(state.memory, role);
  let reflection: readonly ReflectionAdjustment[] = [];
  let note = "";
  // Below the correlation minimum no reflection can be corroborated, so none could be applied: skip the call.
  if (sampleSize >= MIN_EXPERIMENTS_FOR_CORRELATION) {
    const subject = scored.filter((a) => a.role === role).reduce((w, a) => (a.fitness < w.fitness ? a : w));
    const result = await reflect(
      {
        llm: ctx.llm,
        tenantId: state.tenantId,
        runId: completion.run.id,
        agentId: subject.id,
        role,
        signal: completion.signal,
      },
      {
        query: completion.run.query,
        response: subject.result.response,
        traits: current.traits,
        fitness: worst.fitness,
        correlations: state.memory.correlations({ role }),
        sampleSize,
      },
    );
    if (result.ok) {
      reflection = result.value.adjustments;
      const said = result.value.reasoning.slice(0, MAX_REASON_REASONING_CHARS);
      note = ` Reflection proposed ${reflection.length} adjustment(s)${said ? `: "${said}"` : ""}.`;
    } else {
      note = ` Reflection unavailable (${result.error.code}: ${result.error.message}).`;
    }
  }
  const step = selfCorrectingStep({
    memory: state.memory,
    role,
    traits: current.traits,
    reflection,
    threshold: ctx.settings.applyThreshold,
  });
  if (!step.applied) return { change: null, reason: `${step.reason}.${note}` };
  return {
    change: {
      kind: "SELF_CORRECTING",
      traits: step.traits,
      parentIds: [current.id],
      generation: current.generation + 1,
      reason: `Worst-scoring role ${role} (mean fitness ${f3(worst.fitness)} this run). ${step.reason}${note}`,
      adjustments: step.adjustments,
    },
    reason: "",
  };
};

/** Times a change is rebased onto a pool another worker moved meanwhile before the step gives up. */
export const MAX_POOL_SWAP_ATTEMPTS = 5;

/**
 * Stores the offspring and moves the role's pointer by compare-and-set on its `evolutions`: when
 * another worker moved it first, the pools are reloaded from the store and the offspring is adopted
 * onto them again, so neither worker's update is lost. Then it stores the record, emits and publishes it.
 */
const applyChange = async (
  ctx: EvolutionContext,
  state: TenantState,
  completion: RunCompletion,
  role: AgentRole,
  change: Change,
  now: Date,
) => {
  const tenantId = state.tenantId;
  const genome: Genome = {
    id: ctx.ids.next(),
    traits: change.traits,
    parentIds: change.parentIds,
    generation: change.generation,
  };
  const member: PoolMember = { tenantId, role, genome, stats: NO_FITNESS, createdAt: now };
  await ctx.store.pools.saveMember(tenantId, member);
  for (let attempt = 1; ; attempt++) {
    const current = poolOf(state, role);
    const before = currentGenome(current);
    const { pool, evicted } = adoptOffspring(current, tenantId, member, ctx.settings.maxPoolSize, now);
    const pointer = pool.pointer as NonNullable<RolePool["pointer"]>;
    if (await ctx.store.pools.swapPool(tenantId, pointer, current.pointer?.evolutions ?? 0)) {
      await ctx.store.pools.removeMembers(tenantId, evicted);
      const record: EvolutionRecord = {
        id: ctx.ids.next(),
        tenantId,
        runId: completion.run.id,
        kind: change.kind,
        role,
        before: before.traits,
        after: genome.traits,
        parentGenomeIds: change.parentIds,
        offspringGenomeId: genome.id,
        generation: genome.generation,
        reason: change.reason,
        adjustments: change.adjustments,
        at: now,
      };
      await ctx.store.records.append(tenantId, record);
      setPool(state, pool);
      await completion.emit({ type: "EvolutionApplied", record });
      await ctx.bus.publish("evolution", tenantId, record);
      return;
    }
    if (attempt >= MAX_POOL_SWAP_ATTEMPTS) {
      throw new AppError(
        ErrorCode.Conflict,
        `The ${role} gene pool of tenant ${tenantId} kept changing under this step; gave up after ${attempt} attempts.`,
      );
    }
    state.pools = buildPools(await ctx.store.pools.load(tenantId));
  }
};

/**
 * Evolution after a successful run (docs/design.md, Semantics): fitness into the pools (every mode); then, unless the
 * run's mode is OFF, one change to the worst-scoring role's current genome — SELF_CORRECTING when it
 * applies something, otherwise the GENETIC step (the record's reason says why) — and, in
 * SELF_CORRECTING, consolidation when due. Randomness comes only from the run's seed.
 */
export const evolveAfterRun = async (
  ctx: EvolutionContext,
  state: TenantState,
  completion: RunCompletion,
): Promise<void> => {
  const { run, agents } = completion;
  const now = ctx.clock.now();
  const scored = agents.filter(
    (a): a is Scored => a.result !== null && typeof a.fitness === "number" && Number.isFinite(a.fitness),
  );
  await recordPoolFitness(ctx, state, scored, now);
  const mode = run.config.evolution;
  const worst = worstRole(scored);
  if (mode === "OFF" || worst === null) return;
  if (mode === "SELF_CORRECTING") await recordExperiments(ctx, state, run.id, scored, now);

  const pool = poolOf(state, worst.role);
  const current = currentGenome(pool);
  let change: Change | null = null;
  let fallback = "";
  if (mode === "SELF_CORRECTING") {
    const attempt = await trySelfCorrect(ctx, state, completion, worst, current, scored);
    change = attempt.change;
    fallback =
      attempt.change === null
        ? `Self-correction applied nothing (${attempt.reason.trim()}); fell back to the GENETIC step. `
        : "";
  }
  if (change === null) {
    const offspring = geneticStep(pool, ctx.settings.mutationRate, createSeededRng(run.config.seed));
    change = {
      kind: "GENETIC",
      traits: offspring.traits,
      parentIds: offspring.parentIds,
      generation: offspring.generation,
      reason: `${fallback}Worst-scoring role ${worst.role} (mean fitness ${f3(worst.fitness)} this run). ${offspring.reason}`,
      adjustments: [],
    };
  }
  await applyChange(ctx, state, completion, worst.role, change, now);
  if (mode === "SELF_CORRECTING") await maybeConsolidate(ctx, state, run, agents, completion.signal);
};

/** The RunHook: evolution after each run (serialised per tenant) and learned rules as guidance. */
export const createEvolutionHook = (ctx: EvolutionContext): RunHook => ({
  name: "evolution",
  guidance: async (tenantId) =>
    (await ctx.cache.get(tenantId)).guidance.map(
      (r) => `${r.description} (confidence ${r.confidence.toFixed(2)})`,
    ),
  afterRun: (completion) =>
    ctx.cache.exclusive(completion.run.tenantId, async (state) => {
      try {
        await evolveAfterRun(ctx, state, completion);
      } catch (e) {
        // The store may now hold part of the step: rebuild from it rather than trust memory.
        ctx.cache.invalidate(completion.run.tenantId);
        throw e;
      }
    }),
});
