import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** Latency buckets in seconds, from 1 ms to 2 min: store calls sit at the low end, LLM calls at the high end. */
export const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** What the gauges read when /metrics is scraped. */
export interface MetricSources {
  connections(): number;
  subscriptions(): number;
  /** Runs this process executes now. */
  activeRuns(): number;
  /** Runs waiting for a worker and executing, across the queue (every instance with BullMQ). */
  queueDepth(): Promise<{ waiting: number; active: number }>;
}

/** Every metric the server exports on /metrics, in one registry (no global state). */
export const createMetrics = (gauges: MetricSources) => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "vex_" });
  const withRegistry = { registers: [registry] };
  return {
    registry,
    runsStarted: new Counter({ name: "vex_runs_started_total", help: "Runs started", ...withRegistry }),
    runsFinished: new Counter({
      name: "vex_runs_finished_total",
      help: "Runs finished, by final status",
      labelNames: ["status"] as const,
      ...withRegistry,
    }),
    debateRounds: new Counter({
      name: "vex_debate_rounds_total",
      help: "Debate rounds completed, by outcome",
      labelNames: ["outcome"] as const,
      ...withRegistry,
    }),
    debateChangedAnswers: new Counter({
      name: "vex_debate_changed_answers_total",
      help: "Agents of successful runs whose final claim is a revision the debate made (differs from their first answer)",
      ...withRegistry,
    }),
    llmCalls: new Counter({
      name: "vex_llm_calls_total",
      help: "LLM calls, by call kind, provider (VEX_LLM_PROVIDERS; the unnamed one is default) and outcome (ok or the error code)",
      labelNames: ["kind", "provider", "outcome"] as const,
      ...withRegistry,
    }),
    llmTokens: new Counter({
      name: "vex_llm_tokens_total",
      help: "LLM tokens, by type (prompt, completion, or reasoning: the part of completion a reasoning model spent thinking)",
      labelNames: ["type"] as const,
      ...withRegistry,
    }),
    // Cardinality: one series per tenant × model × type (3). Tenants are the API keys' tenants and
    // models the few a deployment serves, so this stays small; the tenant id is what keys name it.
    tenantTokens: new Counter({
      name: "vex_tenant_llm_tokens_total",
      help: "LLM tokens by tenant, model that answered, and type (prompt, completion, reasoning)",
      labelNames: ["tenant", "model", "type"] as const,
      ...withRegistry,
    }),
    budgetExceeded: new Counter({
      name: "vex_runs_budget_exceeded_total",
      help: "Runs stopped because a call could exceed a token budget, by scope (RUN or TENANT_DAY)",
      labelNames: ["scope"] as const,
      ...withRegistry,
    }),
    llmParamChanges: new Counter({
      name: "vex_llm_parameter_changes_total",
      help: "Request parameters a model refused, by model, parameter and action (dropped, or renamed for the token limit)",
      labelNames: ["model", "parameter", "action"] as const,
      ...withRegistry,
    }),
    llmLatency: new Histogram({
      name: "vex_llm_call_duration_seconds",
      help: "LLM call latency, retries included",
      labelNames: ["kind"] as const,
      buckets: LATENCY_BUCKETS,
      ...withRegistry,
    }),
    storeLatency: new Histogram({
      name: "vex_store_operation_duration_seconds",
      help: "Store operation latency, by operation",
      labelNames: ["operation", "outcome"] as const,
      buckets: LATENCY_BUCKETS,
      ...withRegistry,
    }),
    publishLag: new Histogram({
      name: "vex_event_publish_lag_seconds",
      help: "Time from an event's timestamp to its publication (the log write sits in between)",
      buckets: LATENCY_BUCKETS,
      ...withRegistry,
    }),
    connections: new Gauge({
      name: "vex_ws_connections",
      help: "Open authenticated WebSocket connections",
      collect() {
        this.set(gauges.connections());
      },
      ...withRegistry,
    }),
    subscriptions: new Gauge({
      name: "vex_ws_subscriptions",
      help: "Active WebSocket operations",
      collect() {
        this.set(gauges.subscriptions());
      },
      ...withRegistry,
    }),
    activeRuns: new Gauge({
      name: "vex_runs_active",
      help: "Runs this process is executing",
      collect() {
        this.set(gauges.activeRuns());
      },
      ...withRegistry,
    }),
    queueDepth: new Gauge({
      name: "vex_run_queue_jobs",
      help: "Runs in the queue, by state (waiting for a worker, active on one)",
      labelNames: ["state"] as const,
      async collect() {
        const depth = await gauges.queueDepth();
        this.set({ state: "waiting" }, depth.waiting);
        this.set({ state: "active" }, depth.active);
      },
      ...withRegistry,
    }),
    runsResumed: new Counter({
      name: "vex_runs_resumed_total",
      help: "Runs this process took again after they stopped unfinished, by reason (WORKER_LOST: stalled and recovered)",
      labelNames: ["reason"] as const,
      ...withRegistry,
    }),
    walCheckpoints: new Histogram({
      name: "vex_embedded_wal_checkpoint_duration_seconds",
      help: "Checkpoints of the embedded database's write-ahead log that copied pages (on their worker thread), by outcome",
      labelNames: ["outcome"] as const,
      buckets: LATENCY_BUCKETS,
      ...withRegistry,
    }),
    dispatchLatency: new Histogram({
      name: "vex_run_dispatch_seconds",
      help: "Time from a run being queued to a worker taking it",
      buckets: LATENCY_BUCKETS,
      ...withRegistry,
    }),
  };
};

export type Metrics = ReturnType<typeof createMetrics>;
