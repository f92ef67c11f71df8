import type { LlmCallOptions, LlmClient, LlmRequest, LlmResponse } from "../../src/ports/llm.js";

/**
 * Wraps an LlmClient so that its replies stream slowly: the inner client's tokens are replayed to the
 * caller `tokenDelayMs` apart, after `firstTokenMs`. A run then takes long enough for a person (or a
 * browser test) to watch agents start, debate and stream. Honours the abort signal.
 */
export const slowed = (
  inner: LlmClient,
  { tokenDelayMs = 10, firstTokenMs = 60 }: { tokenDelayMs?: number; firstTokenMs?: number } = {},
): LlmClient => ({
  model: inner.model,
  async complete(request: LlmRequest, options?: LlmCallOptions): Promise<LlmResponse> {
    const pieces: string[] = [];
    const response = await inner.complete(request, {
      ...(options?.signal ? { signal: options.signal } : {}),
      onToken: (t) => void pieces.push(t),
    });
    if (pieces.length === 0) pieces.push(response.content);
    await sleep(firstTokenMs, options?.signal);
    for (const piece of pieces) {
      options?.onToken?.(piece);
      await sleep(tokenDelayMs, options?.signal);
    }
    return response;
  },
});

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
