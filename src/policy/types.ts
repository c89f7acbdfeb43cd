/** The policy document model: what a validated CostPolicy YAML/JSON document contains. */

export const API_VERSIONS = ["costguard.dev/v1", "policy.oneuptime.com/v1"] as const;
export type ApiVersion = (typeof API_VERSIONS)[number];

export const POLICY_TYPES = ["ResourceLimit", "TagRequirement", "BudgetLimit"] as const;
export type PolicyType = (typeof POLICY_TYPES)[number];

export const ENFORCEMENTS = ["deny", "warn", "audit"] as const;
export type Enforcement = (typeof ENFORCEMENTS)[number];

export const SEVERITIES = ["critical", "high", "medium", "low"] as const;
export type Severity = (typeof SEVERITIES)[number];

export const DEFAULT_ENFORCEMENT: Enforcement = "deny";
export const DEFAULT_SEVERITY: Severity = "high";

export const CHECK_OPS = [
  "eq",
  "ne",
  "lt",
  "lte",
  "gt",
  "gte",
  "in",
  "not-in",
  "regex",
  "present",
  "absent",
] as const;
export type CheckOp = (typeof CHECK_OPS)[number];

/** A generic check on any request field, beyond the built-in constraint keys. */
export interface FieldCheck {
  field: string;
  op: CheckOp;
  value?: unknown;
  message?: string;
}

export interface RuleCommon {
  name: string;
  description?: string;
  enforcement?: Enforcement;
  severity?: Severity;
  checks?: FieldCheck[];
}

export interface ResourceConstraint {
  maxVCPUs?: number;
  maxMemoryGB?: number;
  allowedInstanceFamilies?: string[];
  deniedInstanceFamilies?: string[];
  maxSizeGB?: number;
  allowedTypes?: string[];
  deniedTypes?: string[];
  maxStorageGB?: number;
  /** Upper bound (inclusive) on the estimated monthly cost, `cost.monthly` (set by the price book). */
  maxMonthlyCost?: number;
  /** The currency of maxMonthlyCost (ISO 4217, default USD). */
  currency?: string;
}

export interface ResourceLimitRule extends RuleCommon {
  /** Resource type scope: `category/kind`, `category/*` or `*`; one or several. */
  resource: string | string[];
  constraint?: ResourceConstraint;
}

export interface RequiredTag {
  key: string;
  pattern?: string;
  allowedValues?: string[];
  minLength?: number;
  maxLength?: number;
  description?: string;
}

export interface TagRequirementRule extends RuleCommon {
  requiredTags: RequiredTag[];
  scope?: string | string[];
}

export interface AlertThreshold {
  percent: number;
  action: "notify" | "block-new-resources";
  channels?: string[];
}

export interface BudgetSelector {
  tags?: Record<string, string>;
  provider?: string;
  subAccount?: string;
  service?: string;
  region?: string;
}

export interface BudgetLimitRule extends RuleCommon {
  selector: BudgetSelector;
  budget: {
    monthly?: number;
    quarterly?: number;
    currency?: string;
    /** FOCUS column budgets sum: EffectiveCost (default), BilledCost or ListCost. */
    costColumn?: "EffectiveCost" | "BilledCost" | "ListCost";
    alertThresholds?: AlertThreshold[];
  };
  denyOnForecastOverrun?: boolean;
}

interface SpecCommon {
  description?: string;
  enforcement?: Enforcement;
  severity?: Severity;
}

export type PolicySpec =
  | (SpecCommon & { type: "ResourceLimit"; rules: ResourceLimitRule[] })
  | (SpecCommon & { type: "TagRequirement"; rules: TagRequirementRule[] })
  | (SpecCommon & { type: "BudgetLimit"; rules: BudgetLimitRule[] });

export interface PolicyMetadata {
  name: string;
  namespace?: string;
  description?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface PolicyDocument {
  apiVersion: ApiVersion;
  kind: "CostPolicy";
  metadata: PolicyMetadata;
  spec: PolicySpec;
}

/** Where a loaded document came from, so later stages can point back at the YAML. */
export interface PolicySource {
  file: string;
  /** Index of the document inside a multi-document file or JSON array. */
  index: number;
  /** Resolves a path inside the document (e.g. `["spec","rules",0]`) to a line and column. */
  locate(path: readonly (string | number)[], atKey?: boolean): { line: number; column: number };
}

export interface LoadedPolicy {
  document: PolicyDocument;
  source: PolicySource;
}
