/** How long {@link waitFor} polls, and how often. */
export interface WaitOptions {
  /** @default 5 s */
  readonly timeoutMs?: number;
  /** @default 20 ms */
  readonly intervalMs?: number;
  /** Count a check that rejects as not met yet (e.g. a server that is still down) instead of failing. @default false */
  readonly retryErrors?: boolean;
}

/** Polls `check` until it resolves true; rejects with "condition not met in time" after the timeout. */
export const waitFor = async (
  check: () => Promise<boolean>,
  { timeoutMs = 5_000, intervalMs = 20, retryErrors = false }: WaitOptions = {},
): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await (retryErrors ? check().catch(() => false) : check()))) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, intervalMs));
  }
};
