import { AppError, ErrorCode } from "../../domain/errors.js";
import type { OptimizationRule } from "../../domain/evolution.js";
import { EvolutionMemory } from "../../domain/evolution-memory.js";
import type { Clock } from "../../ports/clock.js";
import type { EvolutionStore } from "../../ports/evolution-store.js";
import { buildPools, type TenantPools } from "./gene-pool.js";

/** One tenant's evolution state in memory: a cache of the store, rebuilt from it on first use. */
export interface TenantState {
  readonly tenantId: string;
  memory: EvolutionMemory;
  pools: TenantPools;
  /** The most confident rules, for agents' system prompts. */
  guidance: readonly OptimizationRule[];
  /** Runs to wait before consolidation is tried again after a failure (0: try when due). */
  consolidationBackoff: number;
}

export interface TenantCacheOptions {
  readonly store: EvolutionStore;
  readonly clock: Clock;
  readonly memoryCapacity: number;
  readonly maxGuidanceRules: number;
  /** Idle time after which a tenant's state may be dropped. */
  readonly idleMs: number;
  /** Most tenants held at once. */
  readonly maxTenants: number;
}

/** Per-tenant state with a per-tenant lock, bounded in size and idle time. */
export interface TenantCache {
  /** The tenant's state, loaded from the store if it is not held. */
  get(tenantId: string): Promise<TenantState>;
  /** Runs `fn` with the tenant's state, one call at a time per tenant (steps never interleave). */
  exclusive<T>(tenantId: string, fn: (state: TenantState) => Promise<T>): Promise<T>;
  /** Forgets the tenant's state (after a failed step): the next use rebuilds it from the store. */
  invalidate(tenantId: string): void;
  /** Drops idle tenants' state, then the least recently used while over the limit; returns how many. */
  sweep(): number;
  /** Tenants held. */
  size(): number;
}

/**
 * Rebuilds a tenant's state from the store (docs/design.md, Semantics; issue 3 item 5): pools and members, every
 * experiment into a fresh memory (decayed to now), the top rules. Experiments the memory's cap evicts
 * on the way are removed from the store too, so the two agree.
 */
export const loadTenantState = async (
  tenantId: string,
  options: TenantCacheOptions,
): Promise<TenantState> => {
  const { store } = options;
  const [stored, experiments, guidance] = await Promise.all([
    store.pools.load(tenantId),
    store.experiments.listAll(tenantId),
    store.rules.top(tenantId, options.maxGuidanceRules),
  ]);
  let memory: EvolutionMemory;
  try {
    memory = new EvolutionMemory({ capacity: options.memoryCapacity, experiments });
  } catch (cause) {
    throw new AppError(ErrorCode.Internal, `Stored experiments of tenant ${tenantId} are invalid.`, {
      cause,
    });
  }
  memory.decay(options.clock.now());
  if (memory.size < experiments.length) {
    const kept = new Set(memory.snapshot().map((e) => e.id));
    await store.experiments.removeExactly(
      tenantId,
      experiments.filter((e) => !kept.has(e.id)).map((e) => e.id),
    );
  }
  return { tenantId, memory, pools: buildPools(stored), guidance, consolidationBackoff: 0 };
};

/**
 * The per-tenant state cache: loads on first use (concurrent first uses share one load), serialises
 * `exclusive` calls per tenant, and never drops a tenant that is loading or locked.
 */
export const createTenantCache = (options: TenantCacheOptions): TenantCache => {
  const states = new Map<string, { state: TenantState; lastUsed: number }>();
  const loading = new Map<string, Promise<TenantState>>();
  const locks = new Map<string, { tail: Promise<unknown>; holders: number }>();
  const now = () => options.clock.now().getTime();

  const evictable = (tenantId: string) => !locks.has(tenantId) && !loading.has(tenantId);

  const sweep = (): number => {
    let dropped = 0;
    const cutoff = now() - options.idleMs;
    for (const [tenantId, entry] of states) {
      if (entry.lastUsed <= cutoff && evictable(tenantId)) {
        states.delete(tenantId);
        dropped++;
      }
    }
    if (states.size > options.maxTenants) {
      const byAge = [...states].filter(([id]) => evictable(id)).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
      for (const [tenantId] of byAge.slice(0, states.size - options.maxTenants)) {
        states.delete(tenantId);
        dropped++;
      }
    }
    return dropped;
  };

  const get = async (tenantId: string): Promise<TenantState> => {
    const held = states.get(tenantId);
    if (held !== undefined) {
      held.lastUsed = now();
      return held.state;
    }
    const pending = loading.get(tenantId);
    if (pending !== undefined) return pending;
    const load = loadTenantState(tenantId, options)
      .then((state) => {
        states.set(tenantId, { state, lastUsed: now() });
        if (states.size > options.maxTenants) sweep();
        return state;
      })
      .finally(() => loading.delete(tenantId));
    loading.set(tenantId, load);
    return load;
  };

  return {
    get,
    exclusive: async (tenantId, fn) => {
      const lock = locks.get(tenantId) ?? { tail: Promise.resolve(), holders: 0 };
      locks.set(tenantId, lock);
      lock.holders++;
      const run = lock.tail.then(async () => fn(await get(tenantId)));
      lock.tail = run.catch(() => undefined);
      try {
        return await run;
      } finally {
        if (--lock.holders === 0) locks.delete(tenantId);
        const entry = states.get(tenantId);
        if (entry !== undefined) entry.lastUsed = now();
      }
    },
    invalidate: (tenantId) => void states.delete(tenantId),
    sweep,
    size: () => states.size,
  };
};
