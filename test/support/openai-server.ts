import { OrchestrationDocument, StartOrchestrationDocument } from "../../client/generated/graphql.js";
import type { FakeHostedOptions } from "../fakes/fake-openai-hosted.js";
import { type FakeOpenAi, type FakeScript, startFakeOpenAi } from "../fakes/fake-openai-server.js";
import { request, runEvents } from "./graphql.js";
import { removeDir, startTestServer, type TestServer } from "./server.js";

/** How the fake LLM server behaves: a permissive classic model, or a hosted reasoning model. */
export interface LlmMode {
  readonly name: string;
  readonly model: string;
  readonly hosted: FakeHostedOptions;
  readonly profile: "classic" | "reasoning";
}

export const CLASSIC_MODE: LlmMode = {
  name: "a classic model",
  model: "fake-model",
  hosted: {},
  profile: "classic",
};
export const REASONING_MODE: LlmMode = {
  name: "a hosted reasoning model",
  model: "gpt-5-mini",
  hosted: { reasoning: true },
  profile: "reasoning",
};
export const LLM_MODES = [CLASSIC_MODE, REASONING_MODE] as const;

/**
 * The real server with the real openai client pointed at the fake OpenAI server. The call tags go
 * out as headers (VEX_LLM_CONTEXT_HEADERS, a production option) because the fake scripts by them.
 * Registers its own cleanup with `cleanups`.
 */
export const startOpenAiServer = async (
  cleanups: (() => Promise<void>)[],
  script: FakeScript,
  env: Record<string, string> = {},
  mode: LlmMode = CLASSIC_MODE,
  dataDir?: string,
): Promise<{ fake: FakeOpenAi; server: TestServer }> => {
  const fake = await startFakeOpenAi({ script, hosted: mode.hosted });
  let server: TestServer;
  try {
    server = await startTestServer({
      ...(dataDir === undefined ? {} : { dataDir }),
      env: {
        OPENAI_BASE_URL: fake.url,
        OPENAI_API_KEY: "sk-test",
        VEX_MODEL: mode.model,
        VEX_LLM_CONTEXT_HEADERS: "true",
        ...env,
      },
    });
  } catch (e) {
    await fake.close();
    throw e;
  }
  cleanups.push(async () => {
    await server.stop();
    await fake.close();
    await removeDir(server.dataDir);
  });
  return { fake, server };
};

export interface RunInput {
  readonly query: string;
  readonly maxDebateRounds?: number;
  readonly maxDepth?: number;
  readonly agentsPerLevel?: number;
  readonly evolution?: "OFF" | "GENETIC" | "SELF_CORRECTING";
  readonly seed?: number;
}

/** Starts a run, waits for its event stream to complete, and returns it with its agents. */
export const runToEnd = async (server: TestServer, input: RunInput = { query: "q" }) => {
  const { startOrchestration: run } = await request(server.url, StartOrchestrationDocument, { input });
  await runEvents(server.wsUrl, { orchestrationId: run.id });
  return (await request(server.url, OrchestrationDocument, { id: run.id })).orchestration;
};
