import { waitFor } from "./wait.js";

/** The value of one sample line of a Prometheus exposition, e.g. `vex_ws_connections`; NaN when absent. */
export const sample = (text: string, name: string): number => {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1));
};

/** GET /metrics of the server whose GraphQL endpoint is `graphqlUrl`. */
export const scrape = async (graphqlUrl: string): Promise<string> =>
  (await fetch(graphqlUrl.replace(/\/graphql$/, "/metrics"))).text();

/** Resolves once the server's sample `name` satisfies `ok` (polled: a server-side state, not a delay). */
export const waitForSample = (
  graphqlUrl: string,
  name: string,
  ok: (value: number) => boolean,
  timeoutMs = 30_000,
): Promise<void> =>
  waitFor(async () => ok(sample(await scrape(graphqlUrl), name)), { timeoutMs, intervalMs: 25 });
