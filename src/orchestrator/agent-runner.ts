import { SpanStatusCode } from "@opentelemetry/api";
import { AppError, ErrorCode } from "../domain/errors.js";
import type { RunEventBody } from "../domain/events.js";
import {
  DEFAULT_REASONING_BASE_MAX_TOKENS,
  type LlmParams,
  paramsForProfile,
  type Traits,
  unexpressedTraits,
} from "../domain/genome.js";
import { agentLeafHash } from "../domain/leaf.js";
import { toHex } from "../domain/merkle.js";
import {
  type Agent,
  type AgentResult,
  type AgentRole,
  agentAsStarted,
  type DebateRound,
} from "../domain/run.js";
import { transcriptRoot } from "../domain/transcript.js";
import type { LlmCallKind } from "../ports/llm.js";
import type { AgentPatch, StateChange } from "../ports/stores.js";
import { GEN_AI, GEN_AI_OPERATIONS, untraced, VEX_ATTRIBUTES } from "../ports/tracing.js";
import { createAgentCalls } from "./agent-calls.js";
import { runDebate } from "./debate.js";
import { PROMPTS, render, spotlight } from "./prompts.js";
import { asksForReview, completeReviewed, isPark, requestReviewIfNeeded } from "./review-gate.js";
import { checkAborted, type RunContext } from "./run-context.js";

/** Roles given to a coordinator's children, in spawn order; cycled when agentsPerLevel exceeds them. */
export const CHILD_ROLES: readonly Exclude<AgentRole, "ROOT">[] = ["RESEARCHER", "CRITIC"];
const ROLE_NAMES: Record<AgentRole, string> = { ROOT: "Root", RESEARCHER: "Researcher", CRITIC: "Critic" };

interface AgentSpec {
  readonly role: AgentRole;
  readonly name: string;
  readonly depth: number;
  readonly parentId: string | null;
  readonly ordinal: number;
}

export const ROOT_SPEC: AgentSpec = {
  role: "ROOT",
  name: ROLE_NAMES.ROOT,
  depth: 0,
  parentId: null,
  ordinal: 0,
};

/**
 * Children of the agent at `ordinal` in breadth-first order of a complete k-ary tree:
 * k·ordinal + 1 … k·ordinal + k. This ordinal is the agent's Merkle leaf index.
 */
const childSpecs = (parent: Agent, k: number): AgentSpec[] =>
  Array.from({ length: k }, (_, i) => {
    const role = CHILD_ROLES[i % CHILD_ROLES.length] as Exclude<AgentRole, "ROOT">;
    const cycle = Math.floor(i / CHILD_ROLES.length);
    return {
      role,
      name: cycle === 0 ? ROLE_NAMES[role] : `${ROLE_NAMES[role]} ${cycle + 1}`,
      depth: parent.depth + 1,
      parentId: parent.id,
      ordinal: parent.ordinal * k + 1 + i,
    };
  });

/** The change of a stored agent that an event announces (written with it: RunEventLog.emit). */
const agentChange = (ctx: RunContext, id: string, patch: AgentPatch): StateChange => ({
  kind: "updateAgent",
  tenantId: ctx.tenantId,
  id,
  patch,
});

/**
 * Runs one agent and, if it coordinates, its subtree: children run concurrently, then the agent
 * synthesises their answers; every answer is debated; the agent and its result are stored before
 * the matching events are published. Returns the completed agent. Traced as an `invoke_agent`
 * span, the parent of its LLM calls' and its children's spans.
 */
export const runAgent = (ctx: RunContext, spec: AgentSpec): Promise<Agent> =>
  (ctx.deps.tracer ?? untraced).startActiveSpan(
    `${GEN_AI_OPERATIONS.agent} ${spec.name}`,
    {
      attributes: {
        [GEN_AI.operation]: GEN_AI_OPERATIONS.agent,
        [GEN_AI.agentName]: spec.name,
        [GEN_AI.conversationId]: ctx.runId,
        [VEX_ATTRIBUTES.runId]: ctx.runId,
        [VEX_ATTRIBUTES.leafIndex]: spec.ordinal,
      },
    },
    async (span) => {
      try {
        const agent = await executeAgent(ctx, spec);
        ctx.completed.set(agent.ordinal, agent);
        span.setAttributes({ [GEN_AI.agentId]: agent.id, [VEX_ATTRIBUTES.agentId]: agent.id });
        return agent;
      } catch (e) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
        throw e;
      } finally {
        span.end();
      }
    },
  );

const executeAgent = async (ctx: RunContext, spec: AgentSpec): Promise<Agent> => {
  checkAborted(ctx.signal);
  const { store, clock, ids, genomes } = ctx.deps;
  const prior = ctx.existing.get(spec.ordinal);
  if (prior?.state === "COMPLETED") return prior;
  if (prior?.state === "AWAITING_REVIEW") return completeReviewed(ctx, prior);
  const genome = prior?.genome ?? (await genomes.current(ctx.tenantId, spec.role));
  // What this model takes of the genome's parameters; traits none of them expresses go in the prompt.
  const params = llmParamsFor(
    ctx,
    genome.traits,
    spec.role,
    coordinatesAt(ctx, spec) ? "SYNTHESIS" : "ANSWER",
  );
  let agent: Agent = agentAsStarted({
    id: prior?.id ?? ids.next(),
    tenantId: ctx.tenantId,
    runId: ctx.runId,
    role: spec.role,
    name: spec.name,
    depth: spec.depth,
    parentId: spec.parentId,
    ordinal: spec.ordinal,
    genome,
    llmParams: params,
    createdAt: prior?.createdAt ?? clock.now(),
  });
  // Resumed, the agent starts over (same id and genome, so its leaf position and parameters hold).
  const stored: StateChange = prior
    ? agentChange(ctx, agent.id, {
        llmParams: agent.llmParams,
        state: agent.state,
        fitness: agent.fitness,
        result: agent.result,
        error: agent.error,
        transcript: agent.transcript,
        completedAt: agent.completedAt,
      })
    : { kind: "createAgent", agent };
  await ctx.log.emit({ type: "AgentStarted", agentId: agent.id }, [stored]);
  const started = performance.now();
  const system = await systemPrompt(ctx, spec.role, genome.traits, params);
  const calls = createAgentCalls(ctx, { id: agent.id, role: spec.role }, params, (kind) =>
    ctx.deps.llm.routeFor ? llmParamsFor(ctx, genome.traits, spec.role, kind) : params,
  );
  const { call, transcript } = calls;

  try {
    const coordinates = coordinatesAt(ctx, spec);
    const prompt = coordinates
      ? synthesisPrompt(ctx.query, await runChildren(ctx, agent))
      : render(PROMPTS.answer, { query: spotlight("user-query", ctx.query) });
    const answer = await call({
      kind: coordinates ? "SYNTHESIS" : "ANSWER",
      round: 0,
      system,
      messages: [{ role: "user", content: prompt }],
      json: false,
    });

    agent = { ...agent, state: "DEBATING" };
    await store.agents.update(ctx.tenantId, agent.id, { state: "DEBATING" });
    const roundEvent = (round: DebateRound): RunEventBody => ({
      type: "DebateRoundCompleted",
      agentId: agent.id,
      round,
    });
    // Each round is written as it ends but the last, which is written with the agent's completion
    // (one write), or before the review request when the agent asks for one: the request follows it.
    const outcome = await runDebate({
      claim: answer.content,
      agentSystem: system,
      maxRounds: ctx.config.maxDebateRounds,
      protocol: ctx.config.consensus,
      call,
      onRound: async (round, final) => {
        if (!final) await ctx.log.emit(roundEvent(round));
      },
    });

    const leafInput = {
      runId: ctx.runId,
      agentId: agent.id,
      role: agent.role,
      depth: agent.depth,
      response: outcome.finalClaim,
      confidence: outcome.confidence,
      debate: outcome.debate,
      traits: genome.traits,
    };
    const result: AgentResult = {
      response: outcome.finalClaim,
      confidence: outcome.confidence,
      verified: outcome.verified,
      debate: outcome.debate,
      contextHash: toHex(agentLeafHash(leafInput)),
      leafIndex: agent.ordinal,
      traceRoot: transcriptRoot(transcript),
      tokensUsed: calls.usage(),
      latencyMs: Math.round(performance.now() - started),
    };
    const sent = calls.sent();
    agent = {
      ...agent,
      llmParams: sent,
      state: "COMPLETED",
      result,
      fitness: result.confidence,
      transcript,
      completedAt: clock.now(),
    };
    const lastRound = outcome.debate.rounds.at(-1);
    const reviewed = asksForReview(ctx, agent);
    if (lastRound !== undefined && reviewed) await ctx.log.emit(roundEvent(lastRound));
    await requestReviewIfNeeded(ctx, agent);
    // Emitted together, in this order: one write.
    const round = lastRound !== undefined && !reviewed ? ctx.log.emit(roundEvent(lastRound)) : null;
    const completed = ctx.log.emit({ type: "AgentCompleted", agentId: agent.id }, [
      agentChange(ctx, agent.id, {
        llmParams: sent,
        state: agent.state,
        result,
        fitness: agent.fitness,
        transcript,
        completedAt: agent.completedAt,
      }),
    ]);
    await Promise.all([round, completed]);
    return agent;
  } catch (e) {
    // Waiting for a person (this agent or one below it) is no failure: the run parks.
    if (isPark(e)) throw e;
    // An agent stopped by the run's abort was cancelled; one whose own step threw has failed.
    const cancelled = ctx.signal.aborted;
    ctx.abortRun(e);
    await recordFailure(ctx, { ...agent, llmParams: calls.sent(), transcript }, e, cancelled);
    throw e;
  }
};

/** Runs the children concurrently; a failure aborts the run, and all children settle before it propagates. */
const runChildren = async (ctx: RunContext, parent: Agent): Promise<Agent[]> => {
  const settled = await Promise.allSettled(
    childSpecs(parent, ctx.config.agentsPerLevel).map((s) => runAgent(ctx, s)),
  );
  // A real failure wins over a wait for review; siblings that wait let the others finish first.
  const rejected = settled.filter((s): s is PromiseRejectedResult => s.status === "rejected");
  const failure = rejected.find((s) => !isPark(s.reason)) ?? rejected[0];
  if (failure) throw failure.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<Agent>).value);
};

/** Whether the agent at this spec coordinates children (and so synthesises) rather than answers. */
const coordinatesAt = (ctx: RunContext, spec: AgentSpec): boolean => spec.depth < ctx.config.maxDepth - 1;

/**
 * The genome's parameters as the model serving this role's calls of `kind` takes them (its
 * profile, less refused parameters).
 */
const llmParamsFor = (ctx: RunContext, traits: Traits, role: AgentRole, kind: LlmCallKind): LlmParams => {
  const llm = ctx.deps.llm;
  const route = llm.routeFor?.(role, kind);
  const wanted = paramsForProfile(route?.profile ?? llm.profile ?? "classic", traits, {
    classic: ctx.baseMaxTokens,
    reasoning: ctx.reasoningBaseMaxTokens ?? DEFAULT_REASONING_BASE_MAX_TOKENS,
  });
  return (route ? route.effectiveParams(wanted) : llm.effectiveParams?.(wanted)) ?? wanted;
};

/**
 * The role's prompt, any learned guidance the hooks supply, the traits no parameter expresses, and
 * the untrusted-data policy.
 */
const systemPrompt = async (
  ctx: RunContext,
  role: AgentRole,
  traits: Traits,
  params: LlmParams,
): Promise<string> => {
  const guidance = (
    await Promise.all(
      (ctx.deps.hooks ?? []).map((h) => h.guidance?.(ctx.tenantId, role) ?? Promise.resolve([])),
    )
  ).flat();
  const parts = [PROMPTS.roles[role]];
  if (guidance.length > 0)
    parts.push(render(PROMPTS.guidance, { rules: guidance.map((g) => `- ${g}`).join("\n") }));
  const unexpressed = unexpressedTraits(params);
  if (unexpressed.length > 0) {
    const lines = unexpressed.map((t) => render(PROMPTS.traitLines[t], { value: traits[t].toFixed(2) }));
    parts.push(render(PROMPTS.traitStyle, { traits: lines.join("\n") }));
  }
  parts.push(PROMPTS.dataPolicy);
  return parts.join("\n\n");
};

/** Whether a person rejected the agent's claim in review. */
const rejectedByReview = (agent: Agent): boolean =>
  agent.result?.debate.votes.some((v) => v.voter === "HUMAN" && !v.agrees) ?? false;

const synthesisPrompt = (query: string, children: readonly Agent[]): string =>
  render(PROMPTS.synthesis, {
    query: spotlight("user-query", query),
    findings: children
      .map((c) =>
        render(rejectedByReview(c) ? PROMPTS.findingRejected : PROMPTS.finding, {
          name: c.name,
          role: c.role,
          answer: spotlight(`agent:${c.name}`, c.result?.response ?? ""),
        }),
      )
      .join("\n\n"),
  });

const recordFailure = async (ctx: RunContext, agent: Agent, e: unknown, cancelled: boolean) => {
  const error =
    e instanceof AppError
      ? { code: e.code, message: e.message }
      : { code: ErrorCode.Internal, message: "Agent failed." };
  const failed: Agent = {
    ...agent,
    state: cancelled ? "CANCELLED" : "FAILED",
    error,
    completedAt: ctx.deps.clock.now(),
  };
  try {
    await ctx.log.emit({ type: "AgentFailed", agent: failed, error }, [
      agentChange(ctx, agent.id, {
        ...(agent.llmParams ? { llmParams: agent.llmParams } : {}),
        state: failed.state,
        error,
        transcript: agent.transcript,
        completedAt: failed.completedAt,
      }),
    ]);
  } catch {
    // The store itself may be what failed; the run's own failure handling reports it.
  }
};
