import { describe, expect, it } from "vitest";
import {
  abortableSleep,
  backoffDelayMs,
  DEFAULT_BASE_DELAY_MS,
  DEFAULT_MAX_DELAY_MS,
  DEFAULT_MAX_RETRIES,
  DEFAULT_MAX_RETRY_AFTER_MS,
  DEFAULT_RETRY_POLICY,
  isRetryableStatus,
  parseRetryAfter,
  parseRetryAfterMs,
  resolveRetryPolicy,
  retryDelayMs,
} from "../../src/adapters/openai/retry.js";

const exact = resolveRetryPolicy({ jitter: "none", baseDelayMs: 100, maxDelayMs: 1_000 });
const full = resolveRetryPolicy({ jitter: "full", baseDelayMs: 100, maxDelayMs: 1_000 });

describe("backoffDelayMs", () => {
  it("doubles from the base delay and stops at the max delay", () => {
    const delays = [1, 2, 3, 4, 5, 6].map((retry) => backoffDelayMs(exact, retry, () => 0.5));
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it("stays finite for absurd retry numbers", () => {
    expect(backoffDelayMs(exact, 5_000, () => 0.5)).toBe(1_000);
  });

  it("full jitter scales the exponential ceiling by the random draw", () => {
    expect(backoffDelayMs(full, 3, () => 0)).toBe(0);
    expect(backoffDelayMs(full, 3, () => 0.5)).toBe(200);
    expect(backoffDelayMs(full, 3, () => 0.999_999)).toBe(399);
    expect(backoffDelayMs(full, 9, () => 0.25)).toBe(250);
  });

  it("full jitter never leaves [0, ceiling)", () => {
    let seed = 42;
    const lcg = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let retry = 1; retry <= 8; retry++) {
      const ceiling = Math.min(1_000, 100 * 2 ** (retry - 1));
      for (let i = 0; i < 200; i++) {
        const d = backoffDelayMs(full, retry, lcg);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(ceiling);
      }
    }
  });

  it("clamps a misbehaving random source", () => {
    expect(backoffDelayMs(full, 1, () => -3)).toBe(0);
    expect(backoffDelayMs(full, 1, () => 7)).toBe(100);
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");

  it("reads delay-seconds, including fractions", () => {
    expect(parseRetryAfter("1", now)).toBe(1_000);
    expect(parseRetryAfter(" 2 ", now)).toBe(2_000);
    expect(parseRetryAfter("0.25", now)).toBe(250);
    expect(parseRetryAfter("0", now)).toBe(0);
  });

  it("reads an HTTP-date relative to now, and a past date as 0", () => {
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:03 GMT", now)).toBe(3_000);
    expect(parseRetryAfter("Wed, 31 Dec 2025 23:59:00 GMT", now)).toBe(0);
  });

  it("returns undefined for anything else", () => {
    for (const v of [null, undefined, "", "soon", "-1", "1e3"])
      expect(parseRetryAfter(v, now)).toBeUndefined();
  });

  it("reads retry-after-ms", () => {
    expect(parseRetryAfterMs("150")).toBe(150);
    expect(parseRetryAfterMs("12.6")).toBe(13);
    expect(parseRetryAfterMs("x")).toBeUndefined();
    expect(parseRetryAfterMs(null)).toBeUndefined();
  });
});

describe("retryDelayMs", () => {
  it("honours the server's ask over the backoff, without jitter", () => {
    expect(retryDelayMs(full, 1, 1_500, () => 0)).toBe(1_500);
    expect(retryDelayMs(full, 1, 0, () => 0.9)).toBe(0);
  });

  it("caps the server's ask", () => {
    const policy = resolveRetryPolicy({ maxRetryAfterMs: 2_000 });
    expect(retryDelayMs(policy, 1, 60_000, () => 0)).toBe(2_000);
  });

  it("falls back to the backoff without an ask", () => {
    expect(retryDelayMs(exact, 2, undefined, () => 0)).toBe(200);
  });
});

describe("policy", () => {
  it("has named defaults", () => {
    expect(DEFAULT_RETRY_POLICY).toEqual({
      maxRetries: DEFAULT_MAX_RETRIES,
      baseDelayMs: DEFAULT_BASE_DELAY_MS,
      maxDelayMs: DEFAULT_MAX_DELAY_MS,
      jitter: "full",
      maxRetryAfterMs: DEFAULT_MAX_RETRY_AFTER_MS,
    });
    expect(resolveRetryPolicy()).toEqual(DEFAULT_RETRY_POLICY);
  });

  it("rejects nonsensical values", () => {
    expect(() => resolveRetryPolicy({ maxRetries: -1 })).toThrow(/maxRetries/);
    expect(() => resolveRetryPolicy({ maxRetries: 1.5 })).toThrow(/maxRetries/);
    expect(() => resolveRetryPolicy({ baseDelayMs: Number.NaN })).toThrow(/baseDelayMs/);
    expect(() => resolveRetryPolicy({ maxDelayMs: -5 })).toThrow(/maxDelayMs/);
  });

  it("retries 429 and 5xx only", () => {
    expect([429, 500, 502, 503, 504, 599].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 408, 409, 422, 200, 600].some(isRetryableStatus)).toBe(false);
  });
});

describe("abortableSleep", () => {
  it("resolves after the delay", async () => {
    const t0 = performance.now();
    await abortableSleep(20);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(15);
  });

  it("rejects at once with the signal's reason", async () => {
    const ctl = new AbortController();
    const reason = new Error("stop");
    const t0 = performance.now();
    const p = abortableSleep(10_000, ctl.signal);
    setTimeout(() => ctl.abort(reason), 10);
    await expect(p).rejects.toBe(reason);
    expect(performance.now() - t0).toBeLessThan(1_000);
    await expect(abortableSleep(10, ctl.signal)).rejects.toBe(reason);
  });
});
