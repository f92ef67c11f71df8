import { parseArgs } from "node:util";
import WebSocket from "ws";
import {
  CONSENSUS_PROTOCOLS,
  createVexClient,
  EVOLUTION_MODES,
  RUN_STATUSES,
  type StartOrchestrationInput,
  type VexClient,
  VexError,
  VexUnreachableError,
  verifyRun,
} from "../index.js";
import { finalSummary, runDetail, runList } from "./format.js";
import { type ProgressRenderer, plainRenderer, RunProgress, ttyRenderer } from "./progress.js";
import { verificationLines } from "./verify.js";

/** Where the CLI writes; a test passes its own. */
export interface ClientCliIo {
  /** Raw text to stdout (progress redraws). */
  write(text: string): void;
  /** One line to stdout. */
  out(line: string): void;
  /** One line to stderr. */
  err(line: string): void;
  /** Whether stdout is a terminal: progress is redrawn in place then, appended otherwise. */
  readonly isTTY: boolean;
  readonly columns?: number | undefined;
}

export interface ClientCliOptions {
  /** Aborting stops watching (e.g. on Ctrl-C); the run itself continues on the server. */
  readonly signal?: AbortSignal;
}

export const DEFAULT_URL = "http://127.0.0.1:4000/graphql";

/** Exit codes of the client commands. */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  unreachable: 3,
  unauthenticated: 4,
  interrupted: 130,
} as const;

export const CLIENT_COMMANDS = [
  "run",
  "watch",
  "runs",
  "show",
  "cancel",
  "verify",
  "reviews",
  "review",
] as const;

/** What `vex review` accepts as its decision, as the API spells it. */
const REVIEW_DECISIONS = ["APPROVE", "REJECT", "REVISE"] as const;

export const CLIENT_USAGE = `  vex run "question" [--depth N] [--agents N] [--rounds N] [--evolution MODE]
          [--consensus PROTOCOL] [--seed N] [--json]
                                                 start a run and follow it live
  vex watch <runId> [--after-seq N] [--json]     follow a run (replays what happened so far)
  vex runs [--first N] [--after CURSOR] [--status STATUS] [--json]
                                                 list runs, newest first
  vex show <runId> [--json]                      a run, its agents and its answer
  vex cancel <runId> [--json]                    cancel a running run
  vex verify <runId> [--verifier-key KEY]        recompute the run's proofs offline
  vex reviews [--first N] [--after CURSOR] [--json]
                                                 reviews waiting for a person, newest first
  vex review <runId> <reviewId> approve|reject|revise [--text TEXT] [--comment TEXT] [--json]
                                                 decide a review (revise needs --text); the run continues

  Common options: --url URL (default $VEX_URL or ${DEFAULT_URL})
                  --key KEY (default $VEX_API_KEY)
  MODE: OFF | GENETIC | SELF_CORRECTING
  PROTOCOL: MAJORITY | SUPER_MAJORITY | UNANIMOUS | WEIGHTED_CONFIDENCE
  Exit codes: 0 ok, 1 run failed or error, 2 usage or invalid input, 3 server unreachable,
              4 API key refused, 130 interrupted`;

/** Characters of a pending claim `vex reviews` shows. */
const REVIEW_CLAIM_PREVIEW = 200;

export class ClientUsageError extends Error {
  override readonly name = "ClientUsageError";
}

const COMMON = {
  url: { type: "string" },
  key: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const OPTIONS = {
  run: {
    ...COMMON,
    depth: { type: "string" },
    agents: { type: "string" },
    rounds: { type: "string" },
    evolution: { type: "string" },
    consensus: { type: "string" },
    seed: { type: "string" },
  },
  watch: { ...COMMON, "after-seq": { type: "string" } },
  runs: { ...COMMON, first: { type: "string" }, after: { type: "string" }, status: { type: "string" } },
  show: COMMON,
  cancel: COMMON,
  verify: { url: COMMON.url, key: COMMON.key, help: COMMON.help, "verifier-key": { type: "string" } },
  reviews: { ...COMMON, first: { type: "string" }, after: { type: "string" } },
  review: { ...COMMON, text: { type: "string" }, comment: { type: "string" } },
} as const;

type Command = (typeof CLIENT_COMMANDS)[number];
export const isClientCommand = (s: string | undefined): s is Command =>
  (CLIENT_COMMANDS as readonly string[]).includes(s ?? "");

const int = (name: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) throw new ClientUsageError(`--${name} must be a whole number; got "${value}".`);
  return Number(value);
};

const oneOf = <T extends string>(name: string, allowed: readonly T[], value: string | undefined) => {
  if (value === undefined) return undefined;
  const upper = value.toUpperCase().replaceAll("-", "_") as T;
  if (!allowed.includes(upper)) {
    throw new ClientUsageError(`--${name} must be one of ${allowed.join(", ")}; got "${value}".`);
  }
  return upper;
};

const exactlyOne = (positionals: string[], what: string) => {
  if (positionals.length !== 1 || !positionals[0]) {
    throw new ClientUsageError(`Expected exactly one ${what}; got ${positionals.length}.`);
  }
  return positionals[0];
};

/** Runs one client command (`run`, `watch`, `runs`, `show`, `cancel`, `verify`); returns the exit code. */
export const runClientCli = async (
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: ClientCliIo,
  options: ClientCliOptions = {},
): Promise<number> => {
  const [command, ...rest] = argv;
  if (!isClientCommand(command)) throw new ClientUsageError(`Unknown command "${command ?? ""}".`);
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: rest,
      options: OPTIONS[command],
      allowPositionals: true,
      strict: true,
    }) as unknown as typeof parsed;
  } catch (e) {
    throw new ClientUsageError(e instanceof Error ? e.message : String(e));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(`Usage:\n${CLIENT_USAGE}`);
    return EXIT.ok;
  }
  const url = (values.url as string | undefined) ?? env.VEX_URL ?? DEFAULT_URL;
  const apiKey = (values.key as string | undefined) ?? env.VEX_API_KEY;
  const json = values.json === true;
  const client = createVexClient({
    url,
    ...(apiKey ? { apiKey } : {}),
    // The ws package: Node 20 has no global WebSocket.
    webSocketImpl: WebSocket,
  });
  const printJson = (value: unknown) => io.out(JSON.stringify(value));
  try {
    switch (command) {
      case "run": {
        const query = positionals.join(" ").trim();
        if (!query) throw new ClientUsageError('vex run needs a question: vex run "Why is the sky blue?"');
        const input: StartOrchestrationInput = { query };
        const depth = int("depth", values.depth as string | undefined);
        const agents = int("agents", values.agents as string | undefined);
        const rounds = int("rounds", values.rounds as string | undefined);
        const seed = int("seed", values.seed as string | undefined);
        const evolution = oneOf("evolution", EVOLUTION_MODES, values.evolution as string | undefined);
        const consensus = oneOf("consensus", CONSENSUS_PROTOCOLS, values.consensus as string | undefined);
        if (depth !== undefined) input.maxDepth = depth;
        if (agents !== undefined) input.agentsPerLevel = agents;
        if (rounds !== undefined) input.maxDebateRounds = rounds;
        if (seed !== undefined) input.seed = seed;
        if (evolution !== undefined) input.evolution = evolution;
        if (consensus !== undefined) input.consensus = consensus;
        const run = await client.startOrchestration(input);
        if (json) printJson({ type: "started", run });
        else io.out(`Started run ${run.id} on ${run.model ?? "an unknown model"}`);
        return await follow(client, run.id, 0, json, io, options.signal);
      }
      case "watch": {
        const id = exactlyOne(positionals, "run id");
        const afterSeq = int("after-seq", values["after-seq"] as string | undefined) ?? 0;
        return await follow(client, id, afterSeq, json, io, options.signal);
      }
      case "runs": {
        const first = int("first", values.first as string | undefined);
        const status = oneOf("status", RUN_STATUSES, values.status as string | undefined);
        const page = await client.orchestrations({
          ...(first === undefined ? {} : { first }),
          ...(values.after === undefined ? {} : { after: values.after as string }),
          ...(status === undefined ? {} : { status }),
        });
        if (json) printJson(page);
        else for (const line of runList(page)) io.out(line);
        return EXIT.ok;
      }
      case "show": {
        const id = exactlyOne(positionals, "run id");
        const run = await client.orchestration(id);
        if (run === null) throw new VexError("NOT_FOUND", `No run with id ${id}.`);
        if (json) printJson(run);
        else for (const line of runDetail(run)) io.out(line);
        return EXIT.ok;
      }
      case "cancel": {
        const id = exactlyOne(positionals, "run id");
        const run = await client.cancelOrchestration(id);
        if (json) printJson(run);
        else io.out(`Run ${run.id} is ${run.status}.`);
        return EXIT.ok;
      }
      case "reviews": {
        const first = int("first", values.first as string | undefined);
        const page = await client.pendingReviews({
          ...(first === undefined ? {} : { first }),
          ...(values.after === undefined ? {} : { after: values.after as string }),
        });
        if (json) printJson(page);
        else if (page.edges.length === 0) io.out("No reviews are waiting.");
        else
          for (const { node: r } of page.edges) {
            io.out(`${r.id}  run ${r.orchestrationId}  ${r.role}  until ${r.deadline}`);
            io.out(`    ${r.claim.replaceAll("\n", " ").slice(0, REVIEW_CLAIM_PREVIEW)}`);
          }
        return EXIT.ok;
      }
      case "review": {
        if (positionals.length !== 3) {
          throw new ClientUsageError("Expected <runId> <reviewId> approve|reject|revise.");
        }
        const [orchestrationId, reviewId, word] = positionals as [string, string, string];
        const decision = oneOf("decision", REVIEW_DECISIONS, word);
        if (decision === undefined) throw new ClientUsageError("Expected approve, reject or revise.");
        const text = values.text as string | undefined;
        if (decision === "REVISE" && !text?.trim()) throw new ClientUsageError("revise needs --text.");
        const review = await client.submitReview({
          orchestrationId,
          reviewId,
          decision,
          ...(text === undefined ? {} : { revision: text }),
          ...(values.comment === undefined ? {} : { comment: values.comment as string }),
        });
        if (json) printJson(review);
        else io.out(`Review ${review.id}: ${review.decision}; run ${review.orchestrationId} continues.`);
        return EXIT.ok;
      }
      case "verify": {
        const id = exactlyOne(positionals, "run id");
        const verifierKey = values["verifier-key"] as string | undefined;
        const verification = await verifyRun(client, id, { verifierKey });
        for (const line of verificationLines(verification, url)) io.out(line);
        return verification.ok ? EXIT.ok : EXIT.failed;
      }
    }
  } finally {
    await client.close();
  }
};

/** Follows a run's events to RunFinished, rendering progress (or NDJSON), then prints the outcome. */
const follow = async (
  client: VexClient,
  runId: string,
  afterSeq: number,
  json: boolean,
  io: ClientCliIo,
  signal: AbortSignal | undefined,
): Promise<number> => {
  const progress = new RunProgress(runId);
  const renderer: ProgressRenderer | null = json
    ? null
    : io.isTTY
      ? ttyRenderer({ write: io.write, columns: io.columns })
      : plainRenderer({ write: io.write });
  const watch = client.watch(runId, {
    afterSeq,
    ...(signal ? { signal } : {}),
    onReconnect: (r) => {
      const line = `Connection lost (${r.reason}); resuming after event ${r.afterSeq} in ${r.delayMs} ms…`;
      if (renderer) renderer.note(progress, line);
      else io.err(line);
    },
  });
  for await (const event of watch) {
    const changed = progress.apply(event);
    if (json) io.out(JSON.stringify({ type: "event", event }));
    else renderer?.update(progress, changed, event);
  }
  if (!progress.finished) {
    if (signal?.aborted) {
      io.err(
        `Stopped watching. Run ${runId} continues on the server: vex watch ${runId}, or vex cancel ${runId}.`,
      );
      return EXIT.interrupted;
    }
    throw new VexError(
      "CONNECTION_CLOSED",
      `The event stream of run ${runId} ended before the run finished.`,
    );
  }
  renderer?.done(progress);
  if (json) {
    const run = await client.orchestration(runId);
    io.out(JSON.stringify({ type: "result", run }));
  } else {
    for (const line of finalSummary(progress)) io.out(line);
  }
  return progress.finished.status === "SUCCEEDED" ? EXIT.ok : EXIT.failed;
};

/** A one-line message and exit code for an error of a client command; never a stack trace. */
export const describeClientError = (e: unknown, env: Readonly<Record<string, string | undefined>>) => {
  if (e instanceof ClientUsageError) return { code: EXIT.usage, message: e.message, usage: true };
  if (e instanceof VexUnreachableError) {
    return {
      code: EXIT.unreachable,
      message: `cannot reach the VEX server at ${e.url}: ${e.message.replace(/^VEX server unreachable at \S+: /, "")}. Is it running? Pass --url or set VEX_URL.`,
      usage: false,
    };
  }
  if (e instanceof VexError) {
    switch (e.code) {
      case "UNAUTHENTICATED": {
        const hint = env.VEX_API_KEY ? "" : " Pass --key or set VEX_API_KEY.";
        return {
          code: EXIT.unauthenticated,
          message: `the server refused the API key: ${e.message}${hint} (An operator creates keys with \`vex keys create --tenant <id>\`.)`,
          usage: false,
        };
      }
      case "BAD_USER_INPUT":
        return { code: EXIT.usage, message: `invalid input: ${e.message}`, usage: false };
      case "RATE_LIMITED":
      case "CONCURRENCY_LIMITED":
        return { code: EXIT.failed, message: `${e.message} (${e.code}; try again later)`, usage: false };
      default:
        return { code: EXIT.failed, message: `${e.message} (${e.code})`, usage: false };
    }
  }
  return {
    code: EXIT.failed,
    message: `unexpected error: ${e instanceof Error ? e.message : String(e)}`,
    usage: false,
  };
};
