import { type App, createApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import type { LlmClient } from "../../src/ports/llm.js";
import { makeDataDir } from "./data-dirs.js";

export { makeDataDir, removeDir } from "./data-dirs.js";

export interface TestServer {
  readonly app: App;
  readonly url: string;
  readonly wsUrl: string;
  readonly dataDir: string;
  stop(): Promise<void>;
}

/** Starts the real server (HTTP + WebSocket) on a free loopback port. */
export const startTestServer = async (
  options: { dataDir?: string; env?: Record<string, string>; llm?: LlmClient } = {},
): Promise<TestServer> => {
  const dataDir = options.dataDir ?? (await makeDataDir());
  const config = loadConfig({
    HOST: "127.0.0.1",
    PORT: "0",
    VEX_DATA_DIR: dataDir,
    LOG_LEVEL: "silent",
    ...options.env,
  });
  const app = await createApp(config, options.llm ? { llm: options.llm } : {});
  const { url } = await app.start();
  return { app, url, wsUrl: url.replace(/^http/, "ws"), dataDir, stop: () => app.stop() };
};
