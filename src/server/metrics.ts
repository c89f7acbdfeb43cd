import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Decision } from "../engine/types.js";
import type { BudgetDataView } from "./context.js";
import type { PolicySnapshot, ReloadOutcome } from "./policy-reloader.js";

export type Gate = "evaluate" | "admission";
export type AdmissionOutcome = "evaluated" | "skipped" | "unreadable";

/** The server's Prometheus metrics, in a registry of its own (no process-wide default registry). */
export interface ServerMetrics {
  readonly contentType: string;
  /** The registry behind render() (a cluster worker hands it to the primary for aggregation). */
  readonly registry: Registry;
  recordDecision(gate: Gate, decision: Decision): void;
  /** A recorder for one route's answers (status and duration), with its series looked up once. */
  routeObserver(route: string): (status: number, seconds: number) => void;
  recordError(route: string, status: number, error: string): void;
  recordAdmission(kind: string, outcome: AdmissionOutcome): void;
  recordReload(outcome: ReloadOutcome, snapshot: PolicySnapshot): void;
  recordDecisionLogDrop(lines: number): void;
  /** Reports the served budgets' billing data on every scrape. */
  watchBudgets(view: () => BudgetDataView): void;
  render(): Promise<string>;
}

// Decisions are answered in well under a millisecond; the upper buckets catch queueing under load.
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/**
 * Counts kept as plain numbers on the request path and handed to prom-client when scraped: a
 * prom-client label lookup hashes its labels on every increment, which a batch of a thousand
 * decisions would pay a thousand times.
 */
interface Tally {
  /** The count for a key, created with its labels the first time. */
  entry(key: string, labels: () => Record<string, string>): { n: number };
  collect(): void;
}

function tally(counter: () => Counter<string>): Tally {
  const counts = new Map<string, { labels: Record<string, string>; n: number }>();
  return {
    entry(key, labels) {
      let e = counts.get(key);
      if (e === undefined) {
        e = { labels: labels(), n: 0 };
        counts.set(key, e);
      }
      return e;
    },
    collect() {
      const c = counter();
      c.reset();
      for (const e of counts.values()) c.inc(e.labels, e.n);
    },
  };
}

export function createServerMetrics(options: { processMetrics?: boolean } = {}): ServerMetrics {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const decisionTally: Tally = tally(() => decisions);
  const decisions: Counter<string> = new Counter({
    name: "costguard_decisions_total",
    help: "Decisions made, by gate and result (allow, warn, deny).",
    labelNames: ["gate", "decision"] as const,
    registers,
    collect: () => decisionTally.collect(),
  });
  const violationTally: Tally = tally(() => violations);
  const violations: Counter<string> = new Counter({
    name: "costguard_policy_violations_total",
    help: "Violations found, by gate, policy, rule and enforcement (deny, warn, audit).",
    labelNames: ["gate", "policy", "rule", "enforcement"] as const,
    registers,
    collect: () => violationTally.collect(),
  });
  const requestTally: Tally = tally(() => requests);
  const requests: Counter<string> = new Counter({
    name: "costguard_http_requests_total",
    help: "HTTP requests answered, by route and status code.",
    labelNames: ["route", "status"] as const,
    registers,
    collect: () => requestTally.collect(),
  });
  const latency = new Histogram({
    name: "costguard_http_request_duration_seconds",
    help: "Time from receiving a request to sending its answer, by route.",
    labelNames: ["route"] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const errors = new Counter({
    name: "costguard_http_errors_total",
    help: "Requests answered with an error, by route, status code and error name.",
    labelNames: ["route", "status", "error"] as const,
    registers,
  });
  const admissions = new Counter({
    name: "costguard_admission_reviews_total",
    help: "AdmissionReviews answered, by object kind and outcome (evaluated, skipped, unreadable).",
    labelNames: ["kind", "outcome"] as const,
    registers,
  });
  const reloads = new Counter({
    name: "costguard_policy_reloads_total",
    help: "Policy reloads, by result (loaded, unchanged, failed).",
    labelNames: ["result"] as const,
    registers,
  });
  const lastReloadOk = new Gauge({
    name: "costguard_policy_last_reload_success",
    help: "1 when the last policy reload succeeded, 0 when it failed and the previous set is serving.",
    registers,
    // Across cluster workers: 0 as soon as one of them failed.
    aggregator: "min",
  });
  const lastReloadTime = new Gauge({
    name: "costguard_policy_last_reload_timestamp_seconds",
    help: "When policies were last reloaded (successfully or not), as a Unix time.",
    registers,
    aggregator: "max",
  });
  const setInfo = new Gauge({
    name: "costguard_policy_set_info",
    help: "The serving policy set: 1 for its revision.",
    labelNames: ["revision"] as const,
    registers,
    aggregator: "max",
  });
  const rules = new Gauge({
    name: "costguard_policy_rules",
    help: "Rules in the serving policy set.",
    registers,
    aggregator: "max",
  });
  const policies = new Gauge({
    name: "costguard_policies",
    help: "Policies in the serving policy set.",
    registers,
    aggregator: "max",
  });
  const dropped = new Counter({
    name: "costguard_decision_log_dropped_total",
    help: "Decision log lines dropped because the log could not keep up.",
    registers,
  });

  const byResult = (gate: Gate) => {
    const e = (decision: string) => decisionTally.entry(`${gate}|${decision}`, () => ({ gate, decision }));
    return { allow: e("allow"), warn: e("warn"), deny: e("deny") };
  };
  const results = { evaluate: byResult("evaluate"), admission: byResult("admission") };

  return {
    contentType: registry.contentType,
    registry,
    recordDecision(gate, decision) {
      results[gate][decision.decision].n++;
      const vs = decision.violations;
      for (let i = 0; i < vs.length; i++) {
        const v = vs[i]!;
        violationTally.entry(`${gate}|${v.policy}|${v.rule}|${v.enforcement}`, () => ({
          gate,
          policy: v.policy,
          rule: v.rule,
          enforcement: v.enforcement,
        })).n++;
      }
    },
    routeObserver(route) {
      const histogram = latency.labels(route);
      const byStatus = new Map<number, { n: number }>();
      return (status, seconds) => {
        let counter = byStatus.get(status);
        if (counter === undefined) {
          counter = requestTally.entry(`${route}|${status}`, () => ({ route, status: String(status) }));
          byStatus.set(status, counter);
        }
        counter.n++;
        histogram.observe(seconds);
      };
    },
    recordError(route, status, error) {
      errors.labels(route, String(status), error).inc();
    },
    recordAdmission(kind, outcome) {
      admissions.labels(kind, outcome).inc();
    },
    recordReload(outcome, snapshot) {
      reloads.labels(outcome.result).inc();
      lastReloadOk.set(outcome.result === "failed" ? 0 : 1);
      lastReloadTime.set(outcome.at.getTime() / 1000);
      setInfo.reset();
      setInfo.labels(snapshot.revision).set(1);
      rules.set(snapshot.rules);
      policies.set(snapshot.policies);
    },
    recordDecisionLogDrop(lines) {
      dropped.inc(lines);
    },
    watchBudgets(view) {
      // Registered only for a server with budgets: no misleading zeros without them.
      new Gauge({
        name: "costguard_budget_billing_data_age_seconds",
        help: "How long before the budget state's time its billing data ends (NaN without any charges).",
        registers,
        aggregator: "max",
        collect() {
          const v = view();
          // No charges at all: the age is unknown (NaN), not zero.
          this.set(
            v.data_through === null ? Number.NaN : (Date.parse(v.at) - Date.parse(v.data_through)) / 1000,
          );
        },
      });
      new Gauge({
        name: "costguard_budget_billing_data_stale",
        help: "1 when the billing data is too old to judge budgets by (they go to not_evaluated), else 0.",
        registers,
        aggregator: "max",
        collect() {
          this.set(view().stale === null ? 0 : 1);
        },
      });
    },
    render: () => registry.metrics(),
  };
}
