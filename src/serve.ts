import { createApp } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";

/**
 * Runs the server (or, with VEX_ROLE=worker, a worker) from an environment until SIGTERM/SIGINT,
 * then stops it gracefully and exits. Invalid configuration exits 1 naming the variable.
 */
export const serve = async (env: Record<string, string | undefined>): Promise<void> => {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  const app = await createApp(config);
  await app.start();
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`${signal} received: shutting down\n`);
    app.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
};

/** Reports a failed start and exits 1. */
export const failedToStart = (err: unknown): never => {
  process.stderr.write(`VEX GraphQL failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
};
