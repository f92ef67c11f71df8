import { execFile } from "node:child_process";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { transformWithOxc } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentLeafInput, agentLeafHash } from "../../src/domain/leaf.js";
import { merkleRootFromLeafHashes, toHex } from "../../src/domain/merkle.js";
import { runTraceRoot, type TranscriptEntry, transcriptRoot } from "../../src/domain/transcript.js";
import { aDebate, aGenome, aTranscriptEntry } from "../fixtures/builders.js";

/**
 * The same results give the same roots in another process: a child `node` computes them from a JSON
 * fixture (with every object's keys written in reverse order) using the domain code compiled on its own,
 * and must agree with this process and with the golden values below.
 */

const ROOT = resolve(import.meta.dirname, "../..");
const WORK = join(ROOT, ".cache", `determinism-${process.pid}`);

interface Fixture {
  readonly runId: string;
  readonly agents: readonly {
    readonly leaf: AgentLeafInput;
    readonly transcript: readonly TranscriptEntry[];
  }[];
}

const ROLES = ["ROOT", "RESEARCHER", "CRITIC"] as const;
const fixture: Fixture = {
  runId: "run-determinism",
  agents: ROLES.map((role, i) => ({
    leaf: {
      runId: "run-determinism",
      agentId: `agent-${i}`,
      role,
      depth: i === 0 ? 0 : 1,
      response: `Answer ${i}: ünïcødé, "quotes", \\ and a tab\t.`,
      confidence: 0.1 + i / 3,
      debate: aDebate(),
      traits: { ...aGenome().traits, exploration: i / 7 },
    },
    transcript: [0, 1, 2].map((index) => aTranscriptEntry({ index, round: index })),
  })),
};

/** Golden roots of the fixture; a change here means every stored root of every deployment changes. */
const GOLDEN = {
  merkleRoot: "57df705ca2ba55d5711373958c2292bb82139fd654f6f955214809832a7250fe",
  traceRoot: "2ead8bd5f68fcd81b6312923b406f48fa4ff03f8d11069fd7c92d1518945636e",
};

/** Every object's keys in reverse order: canonical JSON must not care. */
const reverseKeys = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(reverseKeys)
    : v !== null && typeof v === "object"
      ? Object.fromEntries(
          Object.entries(v)
            .reverse()
            .map(([k, x]) => [k, reverseKeys(x)]),
        )
      : v;

const rootsOf = (f: Fixture) => ({
  merkleRoot: toHex(merkleRootFromLeafHashes(f.agents.map((a) => agentLeafHash(a.leaf)))),
  traceRoot: runTraceRoot(f.agents.map((a) => transcriptRoot(a.transcript))),
});

const CHILD = `
import { readFileSync } from "node:fs";
import { agentLeafHash } from "./domain/leaf.js";
import { merkleRootFromLeafHashes, toHex } from "./domain/merkle.js";
import { runTraceRoot, transcriptRoot } from "./domain/transcript.js";
const f = JSON.parse(readFileSync(process.argv[2], "utf8"));
process.stdout.write(JSON.stringify({
  merkleRoot: toHex(merkleRootFromLeafHashes(f.agents.map((a) => agentLeafHash(a.leaf)))),
  traceRoot: runTraceRoot(f.agents.map((a) => transcriptRoot(a.transcript))),
}));
`;

beforeAll(async () => {
  // The domain compiled to plain ESM beside the child script; packages resolve from the repo's node_modules.
  await mkdir(join(WORK, "domain"), { recursive: true });
  const dir = join(ROOT, "src", "domain");
  for (const file of (await readdir(dir)).filter((f) => f.endsWith(".ts"))) {
    const { code } = await transformWithOxc(await readFile(join(dir, file), "utf8"), file, { lang: "ts" });
    await writeFile(join(WORK, "domain", file.replace(/\.ts$/, ".js")), code);
  }
  await writeFile(join(WORK, "package.json"), JSON.stringify({ type: "module" }));
  await writeFile(join(WORK, "child.js"), CHILD);
  await writeFile(join(WORK, "fixture.json"), JSON.stringify(reverseKeys(fixture)));
});
afterAll(() => rm(WORK, { recursive: true, force: true }));

describe("deterministic roots", () => {
  it("gives the same roots in a separate node process, whatever the key order of the JSON", async () => {
    const here = rootsOf(fixture);
    const { stdout } = await promisify(execFile)(process.execPath, [
      join(WORK, "child.js"),
      join(WORK, "fixture.json"),
    ]);
    expect(JSON.parse(stdout)).toStrictEqual(here);
    expect(here).toStrictEqual(GOLDEN);
  });

  it("changes the root when the leaf order changes", () => {
    const swapped = { ...fixture, agents: [fixture.agents[1]!, fixture.agents[0]!, fixture.agents[2]!] };
    expect(rootsOf(swapped).merkleRoot).not.toBe(rootsOf(fixture).merkleRoot);
  });
});
