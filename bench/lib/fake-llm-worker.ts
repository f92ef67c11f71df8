/**
 * The fake OpenAI-compatible server of benchmark 2 on a worker thread of its own, as an LLM provider
 * is a process of its own: its work (timers, streaming every word) then does not share the event loop
 * with the server under test, nor with the baseline's client. It answers every call after
 * `latencyMs` and challenges in every debate round (so every agent debates maxDebateRounds rounds).
 * Posts `{ url }` once listening; closes when told "close", then posts "closed".
 */
import { parentPort, Worker, workerData } from "node:worker_threads";
import {
  type FakeReply,
  type RecordedRequest,
  startFakeOpenAi,
} from "../../test/fakes/fake-openai-server.js";
import { CHALLENGE } from "./llm.js";

interface FakeLlmWorkerData {
  readonly latencyMs: number;
}

const reply =
  (latencyMs: number) =>
  (req: RecordedRequest): FakeReply => {
    const kind = req.tag?.kind;
    return kind === "CHALLENGE" || kind === "REPAIR"
      ? { content: CHALLENGE, latencyMs }
      : { content: `${req.tag?.role} ${kind} (round ${req.tag?.round}): a considered reply.`, latencyMs };
  };

/** Starts the fake on a worker thread; resolves with its base URL and a `close`. */
export const startFakeLlmWorker = async (
  latencyMs: number,
): Promise<{ url: string; close(): Promise<void> }> => {
  const worker = new Worker(new URL(import.meta.url), {
    workerData: { latencyMs } satisfies FakeLlmWorkerData,
  });
  const url = await new Promise<string>((resolve, reject) => {
    worker.once("message", (m: { url: string }) => resolve(m.url));
    worker.once("error", reject);
  });
  return {
    url,
    close: async () => {
      const closed = new Promise((resolve) => worker.once("message", resolve));
      worker.postMessage("close");
      await closed;
      await worker.terminate();
    },
  };
};

if (parentPort !== null && (workerData as Partial<FakeLlmWorkerData> | null)?.latencyMs !== undefined) {
  const port = parentPort;
  const fake = await startFakeOpenAi({ script: reply((workerData as FakeLlmWorkerData).latencyMs) });
  port.once("message", async () => {
    await fake.close();
    port.postMessage("closed");
  });
  port.postMessage({ url: fake.url });
}
