import type { Enforcement, Severity } from "../policy/types.js";

export const ACTIONS = ["notify", "tag", "stop", "resize", "terminate", "delete"] as const;
export type RecommendedAction = (typeof ACTIONS)[number];

export const FINDING_STATUSES = ["open", "resolved", "excepted"] as const;
export type FindingStatus = (typeof FINDING_STATUSES)[number];

/** One failed check behind a finding (a finding groups the violations of one rule on one resource). */
export interface FindingCheck {
  field: string;
  actual: unknown;
  limit: unknown;
  message: string;
}

/** A smaller instance type that fits the limits and the observed load. */
export interface ResizeTarget {
  instance_type: string;
  vcpus: number;
  memory_gb: number;
  /** Exact decimal text, per hour, in the finding's currency; null when no price is known. */
  hourly_cost: string | null;
}

export interface Recommendation {
  action: RecommendedAction;
  /** For `resize`: the target size. */
  target?: ResizeTarget;
  /** For `tag`: the tag keys to add or fix. */
  tags?: string[];
  /** Why this action and how the saving was estimated, in one sentence. */
  basis: string;
}

/** What a scan reports about one resource against one rule (of a policy or a built-in detector). */
export interface Finding {
  /** Stable identity across scans: the same resource failing the same rule has the same fingerprint. */
  fingerprint: string;
  resource_id: string;
  resource_type: string;
  resource_name: string | null;
  provider: string | null;
  account: string | null;
  region: string | null;
  /** Who pays: the `team` tag, else `cost-center`, else `owner`, else `unassigned`. */
  team: string;
  policy: string;
  rule: string;
  /** `policy` for the user's policies, `detector` for the built-in waste detectors. */
  source: "policy" | "detector";
  message: string;
  severity: Severity;
  enforcement: Enforcement;
  recommendation: Recommendation;
  /** Estimated monthly saving of the recommended action: exact decimal text (hourly × 730). */
  savings_monthly: string;
  currency: string;
  checks: FindingCheck[];
}

/** A finding as the store keeps it across scans. */
export interface StoredFinding extends Finding {
  inventory: string;
  status: FindingStatus;
  /**
   * For an excepted finding, the approved exception that covered it when its last stored scan matched
   * it (null otherwise, and for findings excepted by hand or before scan-0011).
   */
  exception_id: string | null;
  first_seen: string;
  last_seen: string;
  resolved_at: string | null;
  first_scan_id: string;
  last_scan_id: string;
}

export interface CountBy {
  [key: string]: number;
}

export interface SavingsBy {
  [key: string]: string;
}

/** The summary of one scan, kept in history for trends. */
export interface ScanSummary {
  resources_scanned: number;
  findings: number;
  /**
   * Running instances and databases the idle detector could not judge: no CPU and network averages
   * covering its window. (Absent from scans stored before these counts were kept.)
   */
  idle_unmeasured?: number;
  /**
   * Instances and databases the idle detector did not judge for their state — neither running nor
   * off (`pending`, `modifying`, a state costguard does not know) — by state as written. Present when
   * there are any (history: since scan-0008).
   */
  idle_other_states?: CountBy;
  /** Unattached volumes with neither detached_at nor created_at: not judged. */
  unattached_undated?: number;
  /**
   * Resources scanned in a gone or going state (terminated, shutting-down, deleting, deleted): counted
   * in resources_scanned, judged on nothing. Present when there are any (history: since scan-0007).
   */
  resources_gone?: number;
  /**
   * Resources judged that the billing export given (`scan --billing`) has charges for: priced from
   * what they were charged. Present when any (history: since scan-0010).
   */
  resources_billed?: number;
  /**
   * Findings an approved exception covered: counted in `findings` and the counts by policy, severity,
   * team and action, stored as excepted (a scan not stored marks them and leaves them out of
   * `--fail-on`). Present when any, in a result once the scan has applied its exceptions (history:
   * since scan-0013).
   */
  excepted_findings?: number;
  /**
   * Resources a rule could not be checked on, by "policy/rule field": they had no value for the field
   * (a vCPU limit on an instance type the price book does not know).
   */
  unverified_checks?: CountBy;
  /**
   * Resources of types that no rule of the scan's policies (budgets aside) and no detector judges, by
   * type, the 20 most common and `(other types)`: judged on nothing, not compliant. Present when any.
   */
  unjudged_types?: CountBy;
  /** Rules (`policy/rule`) that no resource scanned was of a type for. Present when any. */
  rules_judging_nothing?: string[];
  /** Findings seen for the first time in this scan (only known when findings are stored). */
  new_findings: number | null;
  /** Findings an earlier scan saw that this one no longer does (only known when stored). */
  resolved_findings: number | null;
  /**
   * Findings this stored scan was given twice (records sharing a resource id give the same
   * fingerprint): the last of each is stored, so `findings` counts more than the store keeps. Only in
   * a stored scan's result, when there are any (history: since scan-0007).
   */
  repeated_findings?: number;
  by_policy: CountBy;
  by_severity: CountBy;
  by_team: CountBy;
  by_action: CountBy;
  savings_by_team: SavingsBy;
  /**
   * Total potential monthly saving: per resource the largest saving among its findings (stopping an
   * idle instance and resizing it are alternatives, not additive), summed over resources.
   */
  savings_monthly: string;
  /**
   * The part of `savings_monthly` on findings approved exceptions covered (per resource, the largest
   * saving less the largest of its findings left open): what is at stake once they are honoured is
   * the difference. Present when above zero (history: since scan-0014).
   */
  excepted_savings_monthly?: string;
  currency: string;
}

export interface ScanRecord extends ScanSummary {
  id: string;
  inventory: string;
  started_at: string;
  finished_at: string | null;
  status: "running" | "completed" | "failed";
  policy_revision: string;
  policies: string[];
  error: string | null;
  /**
   * The process that ran the scan (`process 1234 on host-a`); null for scans stored before
   * costguard kept it.
   */
  owner: string | null;
  /**
   * A failed scan: the findings it first wrote, which stay stored (absent when none, and for scans
   * failed before costguard counted them).
   */
  findings_kept?: number;
  /** The completed scan that counted `findings_kept` new (the next of its inventory to see them). */
  findings_kept_new_in?: string;
}
