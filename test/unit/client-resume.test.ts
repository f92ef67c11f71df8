import { describe, expect, it } from "vitest";
import { VexError } from "../../client/errors.js";
import { type Failure, type ReconnectInfo, type ResumeOptions, resumable } from "../../client/resume.js";

interface Ev {
  readonly seq: number;
  readonly last?: boolean;
}
class Dropped extends Error {}

/** One scripted subscription: events, then optionally a failure (else it completes). */
type Attempt = { events: Ev[]; fail?: unknown };

/** A Subscribe that plays attempts in order, recording each afterSeq it was asked for and each release. */
const scripted = (attempts: Attempt[]) => {
  const asked: number[] = [];
  let released = 0;
  const subscribe = (afterSeq: number): AsyncIterator<Ev> => {
    asked.push(afterSeq);
    const attempt = attempts.shift() ?? { events: [] };
    return (async function* () {
      try {
        yield* attempt.events;
        if (attempt.fail !== undefined) throw attempt.fail;
      } finally {
        released++;
      }
    })();
  };
  return { subscribe, asked, released: () => released };
};

const classify = (e: unknown): Failure =>
  e instanceof VexError ? e : { retry: e instanceof Error ? e.message : "dropped", unreachable: true };

const options = (extra: Partial<ResumeOptions<Ev>> = {}): ResumeOptions<Ev> => ({
  isLast: (e) => e.last === true,
  classify,
  giveUp: (reason, unreachable, attempts) =>
    new VexError(unreachable ? "SERVER_UNREACHABLE" : "CONNECTION_CLOSED", `${reason} after ${attempts}`),
  sleep: async () => undefined,
  random: () => 0.5,
  ...extra,
});

const drain = async (it: AsyncIterable<Ev>) => {
  const out: number[] = [];
  for await (const e of it) out.push(e.seq);
  return out;
};

const seqs = (from: number, to: number, lastAt?: number): Ev[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({
    seq: from + i,
    ...(from + i === lastAt ? { last: true } : {}),
  }));

describe("resumable event stream", () => {
  it("delivers events in order and ends after the last one, without subscribing again", async () => {
    const s = scripted([{ events: seqs(1, 5, 5) }]);
    expect(await drain(resumable(s.subscribe, options()))).toEqual([1, 2, 3, 4, 5]);
    expect(s.asked).toEqual([0]);
    expect(s.released()).toBe(1);
  });

  it("resumes after a drop with afterSeq = last delivered seq and drops replayed duplicates", async () => {
    const reconnects: ReconnectInfo[] = [];
    const s = scripted([
      { events: seqs(1, 3), fail: new Dropped("socket closed") },
      // A server that replays too much: 2 and 3 again must not be delivered twice.
      { events: seqs(2, 7, 7) },
    ]);
    const got = await drain(resumable(s.subscribe, options({ onReconnect: (r) => reconnects.push(r) })));
    expect(got).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(s.asked).toEqual([0, 3]);
    expect(reconnects).toEqual([{ attempt: 1, afterSeq: 3, delayMs: 200, reason: "socket closed" }]);
  });

  it("never delivers out of order: a jump in seq resubscribes to fill the gap", async () => {
    const s = scripted([{ events: [...seqs(1, 2), { seq: 5 }] }, { events: seqs(3, 6, 6) }]);
    expect(await drain(resumable(s.subscribe, options()))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(s.asked).toEqual([0, 2]);
  });

  it("resubscribes when a subscription completes before the last event", async () => {
    const s = scripted([{ events: seqs(1, 2) }, { events: seqs(3, 3, 3) }]);
    expect(await drain(resumable(s.subscribe, options()))).toEqual([1, 2, 3]);
    expect(s.asked).toEqual([0, 2]);
  });

  it("starts after the given afterSeq", async () => {
    const s = scripted([{ events: seqs(1, 4, 4) }]);
    expect(await drain(resumable(s.subscribe, options({ afterSeq: 2 })))).toEqual([3, 4]);
    expect(s.asked).toEqual([2]);
  });

  it("throws a fatal error at once, without retrying", async () => {
    const fatal = new VexError("NOT_FOUND", "No such run.");
    const s = scripted([{ events: [], fail: fatal }]);
    await expect(drain(resumable(s.subscribe, options()))).rejects.toBe(fatal);
    expect(s.asked).toEqual([0]);
  });

  it("gives up after the configured consecutive failures, backing off exponentially up to the cap", async () => {
    const reconnects: ReconnectInfo[] = [];
    const s = scripted(Array.from({ length: 10 }, () => ({ events: [], fail: new Dropped("ECONNREFUSED") })));
    const run = drain(
      resumable(
        s.subscribe,
        options({
          retry: { attempts: 4, baseDelayMs: 100, maxDelayMs: 500 },
          onReconnect: (r) => reconnects.push(r),
        }),
      ),
    );
    await expect(run).rejects.toMatchObject({ code: "SERVER_UNREACHABLE", message: "ECONNREFUSED after 4" });
    expect(s.asked).toHaveLength(5);
    expect(reconnects.map((r) => r.delayMs)).toEqual([100, 200, 400, 500]);
  });

  it("counts only consecutive failures: progress in between resets the budget", async () => {
    const fail = new Dropped("drop");
    const s = scripted([
      { events: [], fail },
      { events: seqs(1, 1), fail },
      { events: seqs(2, 2), fail },
      { events: seqs(3, 3, 3) },
    ]);
    expect(await drain(resumable(s.subscribe, options({ retry: { attempts: 1 } })))).toEqual([1, 2, 3]);
  });

  it("ends quietly on abort and releases the subscription", async () => {
    const controller = new AbortController();
    const s = scripted([{ events: seqs(1, 10, 10) }]);
    const got: number[] = [];
    for await (const e of resumable(s.subscribe, options({ signal: controller.signal }))) {
      got.push(e.seq);
      if (e.seq === 3) controller.abort();
      if (got.length > 5) break;
    }
    expect(got).toEqual([1, 2, 3]);
    expect(s.released()).toBe(1);
  });
});
