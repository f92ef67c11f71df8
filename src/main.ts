import { createApp } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";

const main = async () => {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
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

main().catch((err: unknown) => {
  process.stderr.write(`VEX GraphQL failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
