import type { BusTopics, EventBus } from "../../ports/event-bus.js";
import type { EvolutionStore } from "../../ports/evolution-store.js";
import type { LlmClient } from "../../ports/llm.js";
import type { ProvenanceStore } from "../../ports/provenance-store.js";
import type { ReviewStore } from "../../ports/reviews.js";
import type { Store } from "../../ports/stores.js";
import { DEFAULT_PROVIDER } from "../llm-router/routes.js";
import { passThrough } from "../shared/llm-decorator.js";
import type { Metrics } from "./metrics.js";

const seconds = (startNs: bigint) => Number(process.hrtime.bigint() - startNs) / 1e9;
const outcomeOf = (e: unknown) =>
  typeof e === "object" && e !== null && "code" in e && typeof e.code === "string" ? e.code : "error";

/** The LLM port, counting calls and tokens and timing each call. */
export const instrumentLlm = (llm: LlmClient, m: Metrics): LlmClient => ({
  ...passThrough(llm),
  async complete(request, options) {
    const start = process.hrtime.bigint();
    const kind = request.tag.kind;
    // The provider the call is routed to; the one that answered, when the response names it.
    const routed = llm.routeFor?.(request.tag.role, kind).provider ?? DEFAULT_PROVIDER;
    try {
      const response = await llm.complete(request, options);
      m.llmCalls.inc({ kind, provider: response.provider ?? routed, outcome: "ok" });
      m.llmTokens.inc({ type: "prompt" }, response.usage.promptTokens);
      m.llmTokens.inc({ type: "completion" }, response.usage.completionTokens);
      m.llmTokens.inc({ type: "reasoning" }, response.usage.reasoningTokens ?? 0);
      const tenant = { tenant: request.tag.tenantId, model: response.model };
      m.tenantTokens.inc({ ...tenant, type: "prompt" }, response.usage.promptTokens);
      m.tenantTokens.inc({ ...tenant, type: "completion" }, response.usage.completionTokens);
      m.tenantTokens.inc({ ...tenant, type: "reasoning" }, response.usage.reasoningTokens ?? 0);
      return response;
    } catch (e) {
      m.llmCalls.inc({ kind, provider: routed, outcome: outcomeOf(e) });
      throw e;
    } finally {
      m.llmLatency.observe({ kind }, seconds(start));
    }
  },
});

/** Methods that open or close a store rather than work on its data: passed through, not timed. */
const UNTIMED = new Set<PropertyKey>(["close"]);

/**
 * Wraps every async method of an object (but UNTIMED's) so each call is timed under
 * `<prefix>.<method>`. A method's wrapper is built on its first use and reused, so a call allocates
 * no new closure.
 */
const timeMethods = <T extends object>(target: T, prefix: string, m: Metrics): T => {
  const wrappers = new Map<
    PropertyKey,
    { method: unknown; wrapper: (...args: unknown[]) => Promise<unknown> }
  >();
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      if (typeof value !== "function" || UNTIMED.has(prop)) return value;
      const cached = wrappers.get(prop);
      if (cached?.method === value) return cached.wrapper;
      const operation = `${prefix}.${String(prop)}`;
      const wrapper = async (...args: unknown[]) => {
        const start = process.hrtime.bigint();
        try {
          const result = await value.apply(obj, args);
          m.storeLatency.observe({ operation, outcome: "ok" }, seconds(start));
          return result;
        } catch (e) {
          m.storeLatency.observe({ operation, outcome: outcomeOf(e) }, seconds(start));
          throw e;
        }
      };
      wrappers.set(prop, { method: value, wrapper });
      return wrapper;
    },
  });
};

/** The store port with every operation timed. */
export const instrumentStore = (store: Store, m: Metrics): Store => ({
  runs: timeMethods(store.runs, "runs", m),
  agents: timeMethods(store.agents, "agents", m),
  events: timeMethods(store.events, "events", m),
  ping: () => store.ping(),
  close: () => store.close(),
});

/** The provenance store with every operation timed (`ledger.append`, `checkpoints.put`, …). */
export const instrumentProvenanceStore = (store: ProvenanceStore, m: Metrics): ProvenanceStore => ({
  ledger: timeMethods(store.ledger, "ledger", m),
  checkpoints: timeMethods(store.checkpoints, "checkpoints", m),
  receipts: timeMethods(store.receipts, "receipts", m),
  signingKey: timeMethods(store.signingKey, "signingKey", m),
  close: () => store.close(),
});

/** The evolution store with every operation timed (`genePools.addFitness`, `experiments.append`, …). */
export const instrumentEvolutionStore = (store: EvolutionStore, m: Metrics): EvolutionStore => ({
  pools: timeMethods(store.pools, "genePools", m),
  experiments: timeMethods(store.experiments, "experiments", m),
  rules: timeMethods(store.rules, "rules", m),
  records: timeMethods(store.records, "evolutionRecords", m),
  close: () => store.close(),
});

/** The review store with every operation timed (`reviews.create`, `reviews.decide`, …). */
export const instrumentReviewStore = (store: ReviewStore, m: Metrics): ReviewStore =>
  timeMethods(store, "reviews", m);

/** The bus, measuring publish lag of run events and counting runs and debate rounds from them. */
export const instrumentBus = (bus: EventBus, m: Metrics): EventBus => ({
  subscribe: (topic, id) => bus.subscribe(topic, id),
  close: () => bus.close(),
  async publish(topic, id, message) {
    await bus.publish(topic, id, message);
    if (topic !== "runEvent") return;
    const event = message as BusTopics["runEvent"];
    m.publishLag.observe(Math.max(0, (Date.now() - event.at.getTime()) / 1000));
    if (event.type === "RunStarted") m.runsStarted.inc();
    else if (event.type === "RunFinished") m.runsFinished.inc({ status: event.status });
    else if (event.type === "DebateRoundCompleted") m.debateRounds.inc({ outcome: event.round.outcome });
    else if (event.type === "BudgetExceeded") m.budgetExceeded.inc({ scope: event.scope });
  },
});
