import type { Finding, ScanSummary } from "../../src/scan/types.js";

/** An idle-instance finding for store tests: resource `id`, the rest overridable. */
export function idleFinding(id: string, overrides: Partial<Finding> = {}): Finding {
  return {
    fingerprint: `fp-${id}`,
    resource_id: id,
    resource_type: "compute/instance",
    resource_name: null,
    provider: "aws",
    account: "111122223333",
    region: "us-east-1",
    team: "web",
    policy: "idle-resource-detection",
    rule: "low-utilization",
    source: "detector",
    message: `idle ${id}`,
    severity: "medium",
    enforcement: "warn",
    recommendation: { action: "stop", basis: "idle" },
    savings_monthly: "1",
    currency: "USD",
    checks: [],
    ...overrides,
  };
}

/**
 * The store contract tests' finding: a named payments instance, idle for 7 days at 70.08 USD a month,
 * with one CPU check; the rest overridable.
 */
export function paymentsFinding(id: string, overrides: Partial<Finding> = {}): Finding {
  return idleFinding(id, {
    resource_name: `name-${id}`,
    team: "payments",
    recommendation: { action: "stop", basis: "idle for 7 days" },
    savings_monthly: "70.08",
    checks: [{ field: "metrics.avg_cpu_percent", actual: 1.5, limit: 5, message: "CPU under 5%" }],
    ...overrides,
  });
}

/** A completed scan's summary that found nothing, for store tests that complete scans by hand. */
export const EMPTY_SCAN_SUMMARY: ScanSummary = Object.freeze({
  resources_scanned: 0,
  findings: 0,
  new_findings: 0,
  resolved_findings: 0,
  by_policy: {},
  by_severity: {},
  by_team: {},
  by_action: {},
  savings_by_team: {},
  savings_monthly: "0",
  currency: "USD",
});
