/** What a contract run closes: a store, an anchor backend. */
export interface Closable {
  close(): Promise<void>;
}

/** A resource that outlives a store's `close()`: a data dir, a database. */
export interface StoreResources<R> {
  acquire(): Promise<R>;
  release(resource: R): Promise<void>;
}

/** The `create`/`destroy` pair of a contract run, and where each store it made lives. */
export interface PerStore<R, S extends Closable> {
  /** A store opened on a resource of its own. */
  create(): Promise<S>;
  /** Closes the store, then releases its resource. */
  destroy(store: S): Promise<void>;
  /** The resource a store made by `create` was opened on. */
  resourceOf(store: S): R;
}

/**
 * `create`/`destroy` for a contract run in which every store gets a resource of its own (a fresh data
 * dir, a fresh database) that is released after the store is closed.
 */
export const perStore = <R, S extends Closable>(
  resources: StoreResources<R>,
  open: (resource: R) => S | Promise<S>,
): PerStore<R, S> => {
  const owned = new WeakMap<S, R>();
  const resourceOf = (store: S): R => {
    if (!owned.has(store)) throw new Error("the store was not made by this create()");
    return owned.get(store) as R;
  };
  return {
    create: async () => {
      const resource = await resources.acquire();
      let store: S;
      try {
        store = await open(resource);
      } catch (e) {
        await resources.release(resource);
        throw e;
      }
      owned.set(store, resource);
      return store;
    },
    destroy: async (store) => {
      await store.close();
      if (owned.has(store)) await resources.release(resourceOf(store));
    },
    resourceOf,
  };
};
