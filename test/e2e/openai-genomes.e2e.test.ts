import { afterEach, describe, expect, it } from "vitest";
import { RunProvenanceDocument } from "../../client/generated/graphql.js";
import { transcriptEntryOf } from "../../client/proofs.js";
import { createEmbeddedEvolutionStore } from "../../src/adapters/embedded/evolution-store.js";
import { StartupError } from "../../src/app/startup-error.js";
import { NO_FITNESS } from "../../src/domain/evolution.js";
import {
  DEFAULT_REASONING_BASE_MAX_TOKENS,
  type LlmParams,
  makeTraits,
  restrictToProfile,
  type Traits,
  toLlmParams,
  toReasoningParams,
} from "../../src/domain/genome.js";
import type { AgentRole } from "../../src/domain/run.js";
import { transcriptRoot } from "../../src/domain/transcript.js";
import { EVOLUTION_LLM_PARAMS } from "../../src/orchestrator/evolution/defaults.js";
import { PROMPTS, render } from "../../src/orchestrator/prompts.js";
import type { LlmCallKind } from "../../src/ports/llm.js";
import { DEFAULT_TENANT } from "../../src/server/auth.js";
import { agreeVerdictJson, type FakeRule, type RecordedRequest } from "../fakes/fake-openai-server.js";
import { challengeVerdict } from "../fakes/scripted-llm.js";
import { request } from "../support/graphql.js";
import {
  LLM_MODES,
  type LlmMode,
  REASONING_MODE,
  runToEnd,
  startOpenAiServer,
} from "../support/openai-server.js";
import { makeDataDir } from "../support/server.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** Body fields a genome's parameters become (the token limit under the name the mode's server takes). */
const wire = (p: LlmParams, mode: LlmMode): Record<string, unknown> => {
  const fields: Record<string, unknown> = {
    temperature: p.temperature,
    top_p: p.topP,
    presence_penalty: p.presencePenalty,
    frequency_penalty: p.frequencyPenalty,
    reasoning_effort: p.reasoningEffort,
    verbosity: p.verbosity,
    [mode.profile === "reasoning" ? "max_completion_tokens" : "max_tokens"]: p.maxTokens,
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
};

/** The parameters a genome sets on the mode's model (the server's default bases). */
const paramsOf = (traits: Traits, mode: LlmMode): LlmParams =>
  mode.profile === "reasoning"
    ? toReasoningParams(traits, DEFAULT_REASONING_BASE_MAX_TOKENS)
    : toLlmParams(traits, 512);

/** The GraphQL LlmParameters of stored params (unsent fields null). */
const view = (p: LlmParams) => ({
  temperature: p.temperature ?? null,
  topP: p.topP ?? null,
  presencePenalty: p.presencePenalty ?? null,
  frequencyPenalty: p.frequencyPenalty ?? null,
  maxTokens: p.maxTokens,
  reasoningEffort: p.reasoningEffort ?? null,
  verbosity: p.verbosity ?? null,
});

const systemOf = (r: RecordedRequest): string => r.body?.messages?.[0]?.content ?? "";
const traitLine = (t: "exploration" | "precision" | "creativity" | "skepticism", traits: Traits) =>
  render(PROMPTS.traitLines[t], { value: traits[t].toFixed(2) });

/** Genomes seeded into each role's pool before the server starts: each level of effort and verbosity once. */
const SEEDED: Readonly<Record<AgentRole, Partial<Traits>>> = {
  ROOT: { exploration: 0.2, precision: 0.1, creativity: 0.3, skepticism: 0.9, verbosity: 0.9 },
  RESEARCHER: { exploration: 0.8, precision: 0.5, creativity: 0.6, skepticism: 0.4, verbosity: 0.5 },
  CRITIC: { exploration: 0.5, precision: 0.9, creativity: 0.1, skepticism: 0.2, verbosity: 0.1 },
};
const seededId = (role: string) => `seeded-${role.toLowerCase()}`;

/** A data directory whose default tenant's pools point at the SEEDED genomes, written through the real store. */
const seededPools = async (): Promise<string> => {
  const dataDir = await makeDataDir();
  const store = await createEmbeddedEvolutionStore({ dataDir });
  try {
    for (const [role, traits] of Object.entries(SEEDED) as [AgentRole, Partial<Traits>][]) {
      const genome = { id: seededId(role), traits: makeTraits(traits), parentIds: [], generation: 1 };
      const at = new Date();
      await store.pools.saveMember(DEFAULT_TENANT, {
        tenantId: DEFAULT_TENANT,
        role,
        genome,
        stats: NO_FITNESS,
        createdAt: at,
      });
      await store.pools.savePool(DEFAULT_TENANT, {
        tenantId: DEFAULT_TENANT,
        role,
        currentGenomeId: genome.id,
        evolutions: 1,
        updatedAt: at,
      });
    }
  } finally {
    await store.close();
  }
  return dataDir;
};

/** Researchers are challenged once (a REBUTTAL); critics' first verdict is unusable (a REPAIR). */
const DEBATE_SCRIPT: FakeRule[] = [
  { match: { role: "RESEARCHER", kind: "CHALLENGE", turn: 1 }, reply: { content: challengeVerdict(0.6) } },
  { match: { role: "CRITIC", kind: "CHALLENGE" }, reply: { content: "Looks right to me." } },
  { match: { role: "CRITIC", kind: "REPAIR" }, reply: { content: agreeVerdictJson() } },
];

const AGENT_KINDS: readonly LlmCallKind[] = ["ANSWER", "SYNTHESIS", "CHALLENGE", "REPAIR", "REBUTTAL"];

describe.each(LLM_MODES)("different genomes per role against $name", (mode) => {
  it("every request carries its own agent's parameters, and the agent shows what was sent", async () => {
    const { fake, server } = await startOpenAiServer(cleanups, DEBATE_SCRIPT, {}, mode, await seededPools());
    const before = fake.requests.length;
    // 1 + 4 + 16 agents: ten researchers and ten critics, enough experiments for a REFLECTION each.
    const run = await runToEnd(server, {
      query: "measure",
      evolution: "SELF_CORRECTING",
      maxDepth: 3,
      agentsPerLevel: 4,
      maxDebateRounds: 1,
      seed: 13,
    });
    expect(run?.status).toBe("SUCCEEDED");
    const agents = new Map(run?.agents.map((a) => [a.id, a]));
    expect(new Set(run?.agents.map((a) => a.genome.id))).toEqual(new Set(Object.keys(SEEDED).map(seededId)));

    const requests = fake.requests.slice(before).filter((r) => r.tag?.runId === run?.id);
    expect(new Set(requests.map((r) => r.tag?.kind))).toEqual(new Set([...AGENT_KINDS, "REFLECTION"]));
    for (const r of requests) {
      expect(r.refused).toBeNull();
      const agent = agents.get(r.tag?.agentId ?? "");
      if (agent === undefined) throw new Error(`request ${r.seq} names no agent of the run`);
      const traits = makeTraits(agent.genome);
      if (r.tag?.kind === "REFLECTION") {
        // Reflection is not the agent speaking: fixed, near-deterministic parameters (evolution/defaults.ts).
        expect(r.body).toMatchObject(wire(restrictToProfile(EVOLUTION_LLM_PARAMS, mode.profile), mode));
        continue;
      }
      const expected = paramsOf(traits, mode);
      expect(r.body).toMatchObject(wire(expected, mode));
      expect(agent.genome.llmParams).toEqual(view(expected));
      if (mode.profile === "reasoning" && r.tag?.kind !== "CHALLENGE" && r.tag?.kind !== "REPAIR") {
        for (const t of ["exploration", "creativity", "skepticism"] as const) {
          expect(systemOf(r)).toContain(traitLine(t, traits));
        }
      }
    }
    // The transcript records what was sent, text levels included, and still verifies against the trace root.
    const { orchestration } = await request(server.url, RunProvenanceDocument, { id: run?.id ?? "" });
    for (const agent of orchestration?.agents ?? []) {
      const texts = agent.transcript.flatMap((e) => e.request.params.filter((p) => p.text !== null));
      expect(texts.length > 0).toBe(mode.profile === "reasoning");
      expect(transcriptRoot(agent.transcript.map(transcriptEntryOf))).toBe(agent.result?.traceRoot);
    }
    // The three genomes differ on the wire: in sampling, or in effort, verbosity and stated style.
    const byAgent = requests.filter((r) => r.tag?.kind !== "REFLECTION");
    if (mode.profile === "reasoning") {
      expect(new Set(byAgent.map((r) => r.body?.reasoning_effort))).toEqual(
        new Set(["low", "medium", "high"]),
      );
      expect(new Set(byAgent.map((r) => r.body?.verbosity))).toEqual(new Set(["low", "medium", "high"]));
      const answers = byAgent.filter((r) => r.tag?.kind === "ANSWER" || r.tag?.kind === "SYNTHESIS");
      const styleOf = (r: RecordedRequest) => systemOf(r).split(PROMPTS.traitStyle.split("{{")[0] ?? "")[1];
      expect(answers.every((r) => styleOf(r) !== undefined)).toBe(true);
      expect(new Set(answers.map(styleOf)).size).toBe(3);
    } else {
      expect(new Set(byAgent.map((r) => r.body?.temperature)).size).toBe(3);
    }
  });
});

describe("a hosted reasoning model configured with the wrong profile", () => {
  it("still completes: each refused parameter is refused once, then never sent again", async () => {
    const { fake, server } = await startOpenAiServer(
      cleanups,
      [],
      // One request at a time, so no second request is already on its way when a refusal is learned.
      { VEX_MODEL_PROFILE: "classic", VEX_LLM_MAX_CONCURRENCY: "1" },
      REASONING_MODE,
    );
    const first = await runToEnd(server);
    expect(first?.status).toBe("SUCCEEDED");
    expect(fake.requests.filter((r) => r.refused).map((r) => r.refused?.param)).toEqual([
      "max_tokens",
      "temperature",
      "top_p",
      "presence_penalty",
      "frequency_penalty",
    ]);

    // What the agents show and the transcript records is what was sent: only the token limit.
    const budget = toLlmParams(makeTraits(), 512).maxTokens;
    for (const agent of first?.agents ?? [])
      expect(agent.genome.llmParams).toEqual(view({ maxTokens: budget }));
    const { orchestration } = await request(server.url, RunProvenanceDocument, { id: first?.id ?? "" });
    for (const agent of orchestration?.agents ?? []) {
      for (const entry of agent.transcript) {
        expect(entry.request.params).toEqual([{ name: "maxTokens", value: budget, text: null }]);
      }
      expect(transcriptRoot(agent.transcript.map(transcriptEntryOf))).toBe(agent.result?.traceRoot);
    }

    const metrics = await (await fetch(server.url.replace("/graphql", "/metrics"))).text();
    for (const param of ["temperature", "top_p", "presence_penalty", "frequency_penalty"]) {
      expect(metrics).toContain(
        `vex_llm_parameter_changes_total{model="gpt-5-mini",parameter="${param}",action="dropped"} 1`,
      );
    }
    expect(metrics).toContain(
      'vex_llm_parameter_changes_total{model="gpt-5-mini",parameter="max_tokens",action="renamed"} 1',
    );

    // The next run sends nothing refused, and states the traits no parameter carries any more.
    const sentBefore = fake.requests.length;
    expect((await runToEnd(server))?.status).toBe("SUCCEEDED");
    const second = fake.requests.slice(sentBefore);
    expect(second.every((r) => r.refused === null)).toBe(true);
    const answer = second.find((r) => r.tag?.kind === "ANSWER");
    for (const t of ["exploration", "precision", "creativity", "skepticism"] as const) {
      expect(systemOf(answer as RecordedRequest)).toContain(traitLine(t, makeTraits()));
    }
  });
});

describe("a misconfigured key or model", () => {
  it("ends the run with LLM_AUTH_FAILED naming OPENAI_API_KEY", async () => {
    const { fake, server } = await startOpenAiServer(
      cleanups,
      [],
      {},
      {
        ...REASONING_MODE,
        hosted: { reasoning: true, apiKey: "sk-the-right-one" },
      },
    );
    const run = await runToEnd(server);
    expect(run).toMatchObject({ status: "FAILED", error: { code: "LLM_AUTH_FAILED" } });
    expect(run?.error?.message).toMatch(/OPENAI_API_KEY/);
    // Not retried: one refused request per agent that started.
    expect(fake.requests.every((r) => r.refused?.status === 401)).toBe(true);
    expect(fake.requests.length).toBeLessThanOrEqual(2);
  });

  it("ends the run with LLM_MODEL_NOT_FOUND naming VEX_MODEL", async () => {
    const { server } = await startOpenAiServer(
      cleanups,
      [],
      {},
      {
        ...REASONING_MODE,
        hosted: { reasoning: true, models: ["gpt-5"] },
      },
    );
    const run = await runToEnd(server);
    expect(run).toMatchObject({ status: "FAILED", error: { code: "LLM_MODEL_NOT_FOUND" } });
    expect(run?.error?.message).toMatch(/VEX_MODEL/);
    expect(run?.error?.message).toContain("gpt-5-mini");
  });

  it("VEX_LLM_CHECK refuses to start with a wrong key, naming the variable, and starts with a right one", async () => {
    const hosted = { ...REASONING_MODE, hosted: { reasoning: true, apiKey: "sk-the-right-one" } };
    const refused = await startOpenAiServer(cleanups, [], { VEX_LLM_CHECK: "true" }, hosted).then(
      () => null,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(StartupError);
    expect(String((refused as Error).message)).toMatch(/VEX_LLM_CHECK.*LLM_AUTH_FAILED.*OPENAI_API_KEY/s);

    const { fake } = await startOpenAiServer(
      cleanups,
      [],
      { VEX_LLM_CHECK: "true", OPENAI_API_KEY: "sk-the-right-one" },
      hosted,
    );
    expect(fake.requests.map((r) => [r.tag?.kind, r.refused])).toEqual([["CHECK", null]]);
  });
});
