import type { Duplex } from "node:stream";

/**
 * Coalesces the writes a socket gets in one tick of the event loop into one system call. An event
 * reaches each subscriber of a run as one message per socket, and a burst of events (the event log
 * publishes what it stored in one write together) as several in the same tick: each `ws` send is a
 * `writev` of its own, which was most of the fan-out's CPU once results were shared (BENCHMARKS.md,
 * benchmark 3). `hold()` corks the TCP socket until the tick's callbacks and promise jobs have run;
 * a socket that already has a backlog (a reader behind) is left uncorked, as before.
 */
export const createWriteBatch = (tcp: Duplex) => {
  let holding = false;
  const flush = () => {
    if (!holding) return;
    holding = false;
    // Ended or destroyed meanwhile (end() writes out what was corked): nothing left to uncork.
    if (tcp.writableCorked > 0) tcp.uncork();
  };
  return {
    /** Holds this tick's writes back (once per tick), unless the socket is behind already. */
    hold() {
      if (holding || tcp.writableLength > 0) return;
      holding = true;
      tcp.cork();
      process.nextTick(flush);
    },
    /** Writes what is held now. */
    flush,
    holding: () => holding,
  };
};
