import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Decision } from "../engine/types.js";
import type { PolicySnapshot, ReloadOutcome } from "./policy-reloader.js";

export type Gate = "evaluate" | "admission";
export type AdmissionOutcome = "evaluated" | "skipped" | "unreadable";

/** The server's Prometheus metrics, in a registry of its own (no process-wide default registry). */
export interface ServerMetrics {
  readonly contentType: string;
  recordDecision(gate: Gate, decision: Decision): void;
  /** A recorder for one route's answers (status and duration), with its series looked up once. */
  routeObserver(route: string): (status: number, seconds: number) => void;
  recordError(route: string, status: number, error: string): void;
  recordAdmission(kind: string, outcome: AdmissionOutcome): void;
  recordReload(outcome: ReloadOutcome, snapshot: PolicySnapshot): void;
  recordDecisionLogDrop(lines: number): void;
  render(): Promise<string>;
}

// Decisions are answered in well under a millisecond; the upper buckets catch queueing under load.
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

interface Child {
  inc(n?: number): void;
}

export function createServerMetrics(options: { processMetrics?: boolean } = {}): ServerMetrics {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const decisions = new Counter({
    name: "costguard_decisions_total",
    help: "Decisions made, by gate and result (allow, warn, deny).",
    labelNames: ["gate", "decision"] as const,
    registers,
  });
  const violations = new Counter({
    name: "costguard_policy_violations_total",
    help: "Violations found, by gate, policy, rule and enforcement (deny, warn, audit).",
    labelNames: ["gate", "policy", "rule", "enforcement"] as const,
    registers,
  });
  const requests = new Counter({
    name: "costguard_http_requests_total",
    help: "HTTP requests answered, by route and status code.",
    labelNames: ["route", "status"] as const,
    registers,
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
  });
  const lastReloadTime = new Gauge({
    name: "costguard_policy_last_reload_timestamp_seconds",
    help: "When policies were last reloaded (successfully or not), as a Unix time.",
    registers,
  });
  const setInfo = new Gauge({
    name: "costguard_policy_set_info",
    help: "The serving policy set: 1 for its revision.",
    labelNames: ["revision"] as const,
    registers,
  });
  const rules = new Gauge({
    name: "costguard_policy_rules",
    help: "Rules in the serving policy set.",
    registers,
  });
  const policies = new Gauge({
    name: "costguard_policies",
    help: "Policies in the serving policy set.",
    registers,
  });
  const dropped = new Counter({
    name: "costguard_decision_log_dropped_total",
    help: "Decision log lines dropped because the log could not keep up.",
    registers,
  });

  // Label lookups hash their values; the few combinations there are get cached once.
  const cache = new Map<string, Child>();
  const child = (metric: { labels(...values: string[]): Child }, key: string, values: () => string[]) => {
    let c = cache.get(key);
    if (c === undefined) {
      c = metric.labels(...values());
      cache.set(key, c);
    }
    return c;
  };

  const byResult = (gate: Gate) => ({
    allow: decisions.labels(gate, "allow"),
    warn: decisions.labels(gate, "warn"),
    deny: decisions.labels(gate, "deny"),
  });
  const results = { evaluate: byResult("evaluate"), admission: byResult("admission") };

  return {
    contentType: registry.contentType,
    recordDecision(gate, decision) {
      results[gate][decision.decision].inc();
      const vs = decision.violations;
      for (let i = 0; i < vs.length; i++) {
        const v = vs[i]!;
        child(violations, `v|${gate}|${v.policy}|${v.rule}|${v.enforcement}`, () => [
          gate,
          v.policy,
          v.rule,
          v.enforcement,
        ]).inc();
      }
    },
    routeObserver(route) {
      const histogram = latency.labels(route);
      const byStatus = new Map<number, Child>();
      return (status, seconds) => {
        let counter = byStatus.get(status);
        if (counter === undefined) {
          counter = requests.labels(route, String(status));
          byStatus.set(status, counter);
        }
        counter.inc();
        histogram.observe(seconds);
      };
    },
    recordError(route, status, error) {
      child(errors, `e|${route}|${status}|${error}`, () => [route, String(status), error]).inc();
    },
    recordAdmission(kind, outcome) {
      child(admissions, `a|${kind}|${outcome}`, () => [kind, outcome]).inc();
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
    render: () => registry.metrics(),
  };
}
