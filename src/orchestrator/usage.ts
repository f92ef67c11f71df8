import { badInput } from "../domain/errors.js";
import type { Run } from "../domain/run.js";
import { mergeUsage, summariseUsage, type UsageSummary } from "../domain/usage.js";
import type { Store } from "../ports/stores.js";

/** Runs read per page when a tenant's usage over a window is summed. */
export const USAGE_PAGE_SIZE = 200;

/**
 * A run's usage: the summary stored when it ended, else (running, or ended before summaries were
 * stored) computed from its agents' transcripts.
 */
export const runUsage = async (
  store: Pick<Store, "agents">,
  run: Pick<Run, "tenantId" | "id" | "usage">,
): Promise<UsageSummary> => run.usage ?? summariseUsage(await store.agents.listByRun(run.tenantId, run.id));

/**
 * The tenant's usage over the runs created in [since, until): one indexed keyset scan of the runs
 * (their stored summaries), plus one batched read of the agents of runs that have none.
 */
export const tenantUsage = async (
  store: Pick<Store, "runs" | "agents">,
  tenantId: string,
  since: Date,
  until: Date,
): Promise<{ runs: number; usage: UsageSummary }> => {
  if (!(since.getTime() < until.getTime())) {
    throw badInput("since must be before until.", { argument: "since" });
  }
  const summaries: UsageSummary[] = [];
  let runs = 0;
  let after: string | undefined;
  for (;;) {
    const page = await store.runs.list(
      tenantId,
      { first: USAGE_PAGE_SIZE, after },
      { createdFrom: since, createdBefore: until },
    );
    runs += page.items.length;
    const missing = page.items.filter((r) => r.usage === undefined || r.usage === null);
    for (const r of page.items) if (r.usage) summaries.push(r.usage);
    if (missing.length > 0) {
      const agents = await store.agents.listByRuns(
        tenantId,
        missing.map((r) => r.id),
      );
      for (const r of missing) summaries.push(summariseUsage(agents.filter((a) => a.runId === r.id)));
    }
    if (!page.hasNextPage) break;
    after = page.cursors[page.cursors.length - 1];
  }
  return { runs, usage: mergeUsage(summaries) };
};
