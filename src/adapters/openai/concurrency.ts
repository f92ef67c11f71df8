/**
 * Concurrency limits and signal plumbing of the OpenAI adapter: the process-wide and per-tenant
 * semaphores that cap requests in flight, and the linking of abort signals (caller, call deadline,
 * attempt timeout) into one.
 */

/** A linked AbortSignal and the function that detaches it from its sources. */
export interface LinkedSignal {
  readonly signal: AbortSignal;
  dispose(): void;
}

/**
 * An AbortSignal that aborts, with the same reason, when any source does; `undefined` sources are
 * skipped. `dispose` detaches it from long-lived sources so they do not accumulate listeners.
 */
export const linkSignals = (...sources: Array<AbortSignal | undefined>): LinkedSignal => {
  const controller = new AbortController();
  const detach: Array<() => void> = [];
  for (const source of sources) {
    if (source === undefined) continue;
    if (source.aborted) {
      controller.abort(source.reason);
      break;
    }
    const onAbort = () => controller.abort(source.reason);
    source.addEventListener("abort", onAbort, { once: true });
    detach.push(() => source.removeEventListener("abort", onAbort));
  }
  return {
    signal: controller.signal,
    dispose: () => {
      for (const f of detach) f();
    },
  };
};

/** A FIFO counting semaphore whose waits can be aborted. */
export class Semaphore {
  private active = 0;
  private readonly waiters: Array<() => void> = [];

  /** @param limit most holders at once */
  constructor(private readonly limit: number) {}

  /** True when nobody holds or waits for a slot. */
  get idle(): boolean {
    return this.active === 0 && this.waiters.length === 0;
  }

  /**
   * Resolves with the slot's release function (calling it more than once is harmless) once a slot
   * is free. Rejects with the signal's reason if the signal aborts first, giving up its place.
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener("abort", onAbort);
        this.active++;
        resolve(this.releaser());
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(grant);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal?.reason);
      };
      this.waiters.push(grant);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.waiters.shift()?.();
    };
  }
}

/** One Semaphore per key, dropped again when idle so the map never grows with old tenants. */
export class KeyedSemaphore {
  private readonly byKey = new Map<string, Semaphore>();

  /** @param limit most holders at once per key */
  constructor(private readonly limit: number) {}

  /** Like Semaphore.acquire, for the key's own semaphore. */
  async acquire(key: string, signal?: AbortSignal): Promise<() => void> {
    let sem = this.byKey.get(key);
    if (sem === undefined) {
      sem = new Semaphore(this.limit);
      this.byKey.set(key, sem);
    }
    const owned = sem;
    const cleanup = () => {
      if (owned.idle && this.byKey.get(key) === owned) this.byKey.delete(key);
    };
    try {
      const release = await owned.acquire(signal);
      return () => {
        release();
        cleanup();
      };
    } catch (e) {
      cleanup();
      throw e;
    }
  }
}
