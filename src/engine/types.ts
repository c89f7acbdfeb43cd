import type { Enforcement, Severity } from "../policy/types.js";

/** A resource request (or an existing resource): the guide's shape, snake_case. */
export interface ResourceRequest {
  type: string;
  tags?: Record<string, string>;
  specs?: ResourceSpecs;
  id?: string;
  name?: string;
  provider?: string;
  account?: string;
  region?: string;
  namespace?: string;
  [field: string]: unknown;
}

export interface ResourceSpecs {
  vcpus?: number;
  memory_gb?: number;
  instance_family?: string;
  instance_type?: string;
  size_gb?: number;
  volume_type?: string;
  storage_gb?: number;
  [field: string]: unknown;
}

export type DecisionKind = "allow" | "warn" | "deny";

export interface Violation {
  policy: string;
  rule: string;
  severity: Severity;
  enforcement: Enforcement;
  message: string;
  resource_type: string;
  /** Request field that failed, e.g. `specs.vcpus` or `tags.cost-center`. */
  field: string;
  actual: unknown;
  limit: unknown;
}

/** A violation an approved exception waives, with the exception that does. */
export interface ExceptedViolation extends Violation {
  exception_id: string;
}

/** A constraint that could not be checked because the request does not carry the field. */
export interface Unverified {
  policy: string;
  rule: string;
  field: string;
  message: string;
}

/** A rule that applies but is not evaluated by this gate (e.g. budgets without billing data). */
export interface NotEvaluated {
  policy: string;
  rule: string;
  reason: string;
}

export interface Decision {
  decision: DecisionKind;
  violations: Violation[];
  unverified: Unverified[];
  not_evaluated: NotEvaluated[];
  /** Set by the decider when a price book is available (pricing). */
  estimated_monthly_cost?: CostEstimate;
  /** Violations an approved exception waived (exceptions); they no longer count towards `decision`. */
  excepted?: ExceptedViolation[];
}

/** One priced part of a resource: the instance, its storage, provisioned IOPS. */
export interface CostComponent {
  name: string;
  /** How many units: 1 instance-hour per hour, GB, IOPS, MiB/s, or 1 tier. */
  quantity: string;
  /** hour, gb-month, month (a fixed-size tier), iops-month or mibps-month. */
  unit: string;
  unit_price: string;
  /** Present for per-hour components. */
  hourly?: string;
  monthly: string;
  /** The book entry used: provider, service, type, region, OS/engine, and the file line it came from. */
  entry: string;
  source: string;
}

/** What a resource will cost per month, and how that was worked out; or why it cannot be said. */
export interface CostEstimate {
  status: "known" | "unknown";
  currency?: string;
  /** Sum of the per-hour components (absent when nothing is priced per hour). */
  hourly?: string;
  monthly?: string;
  hours_per_month: number;
  /** `monthly = hourly × 730` and each component's arithmetic, for people. */
  method: string;
  components: CostComponent[];
  assumptions: string[];
  /** For unknown estimates: why. */
  reason?: string;
}
