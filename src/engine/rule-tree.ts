import type {
  BudgetSelector,
  CheckOp,
  Enforcement,
  LoadedPolicy,
  RequiredTag,
  ResourceConstraint,
  Severity,
} from "../policy/types.js";
import { DEFAULT_ENFORCEMENT, DEFAULT_SEVERITY } from "../policy/types.js";
import { DEFAULT_CURRENCY } from "../pricing/money.js";

/**
 * The frozen intermediate form between a validated document and compiled closures: one node per
 * thing to check, tagged by `kind`, with every default resolved.
 */
export type CheckNode =
  | {
      kind: "max";
      field: string;
      constraint: keyof ResourceConstraint;
      limit: number;
      noun: string;
      unit: string;
    }
  | {
      kind: "allowed";
      field: string;
      constraint: keyof ResourceConstraint;
      values: readonly string[];
      noun: string;
    }
  | {
      kind: "denied";
      field: string;
      constraint: keyof ResourceConstraint;
      values: readonly string[];
      noun: string;
    }
  | {
      kind: "maxCost";
      field: string;
      constraint: keyof ResourceConstraint;
      /** The limit as exact decimal text. */
      limit: string;
      /** The limit's currency: an estimate in another is not compared. */
      currency: string;
    }
  | { kind: "tag"; field: string; tag: RequiredTag }
  | { kind: "check"; field: string; op: CheckOp; value: unknown; message?: string }
  | { kind: "budget"; field: string; selector: BudgetSelector; denyOnForecastOverrun: boolean };

export type CheckKind = CheckNode["kind"];

export interface RuleNode {
  policy: string;
  rule: string;
  namespace: string | undefined;
  enforcement: Enforcement;
  severity: Severity;
  /** Resource type scope; undefined means every type. */
  scope: string | readonly string[] | undefined;
  checks: readonly CheckNode[];
}

/** How each built-in constraint key reads the request, and how its messages name things. */
const CONSTRAINTS: {
  [K in Exclude<keyof ResourceConstraint, "currency">]: {
    kind: "max" | "allowed" | "denied" | "maxCost";
    field: string;
    noun: string;
    unit?: string;
  };
} = {
  maxVCPUs: { kind: "max", field: "specs.vcpus", noun: "vCPUs", unit: "" },
  maxMemoryGB: { kind: "max", field: "specs.memory_gb", noun: "memory", unit: "GB" },
  allowedInstanceFamilies: { kind: "allowed", field: "specs.instance_family", noun: "Instance family" },
  deniedInstanceFamilies: { kind: "denied", field: "specs.instance_family", noun: "Instance family" },
  maxSizeGB: { kind: "max", field: "specs.size_gb", noun: "volume size", unit: "GB" },
  allowedTypes: { kind: "allowed", field: "specs.volume_type", noun: "Volume type" },
  deniedTypes: { kind: "denied", field: "specs.volume_type", noun: "Volume type" },
  maxStorageGB: { kind: "max", field: "specs.storage_gb", noun: "storage", unit: "GB" },
  maxMonthlyCost: { kind: "maxCost", field: "cost.monthly", noun: "estimated monthly cost" },
};

export function buildRuleTree(policies: readonly LoadedPolicy[]): readonly RuleNode[] {
  const rules: RuleNode[] = [];
  for (const { document } of policies) {
    const { spec, metadata } = document;
    for (const rule of spec.rules) {
      const checks: CheckNode[] = [];
      let scope: string | readonly string[] | undefined;
      switch (spec.type) {
        case "ResourceLimit": {
          const r = rule as (typeof spec.rules)[number];
          scope = r.resource;
          for (const [key, limit] of Object.entries(r.constraint ?? {})) {
            if (key === "currency") continue; // read with maxMonthlyCost
            const def = CONSTRAINTS[key as Exclude<keyof ResourceConstraint, "currency">];
            const constraint = key as keyof ResourceConstraint;
            if (def.kind === "maxCost") {
              checks.push({
                kind: "maxCost",
                field: def.field,
                constraint,
                limit: String(limit),
                currency: r.constraint?.currency ?? DEFAULT_CURRENCY,
              });
            } else if (def.kind === "max") {
              checks.push({
                kind: "max",
                field: def.field,
                constraint,
                limit: limit as number,
                noun: def.noun,
                unit: def.unit ?? "",
              });
            } else {
              checks.push({
                kind: def.kind,
                field: def.field,
                constraint,
                values: limit as string[],
                noun: def.noun,
              });
            }
          }
          break;
        }
        case "TagRequirement": {
          const r = rule as (typeof spec.rules)[number];
          scope = r.scope;
          for (const tag of r.requiredTags) checks.push({ kind: "tag", field: `tags.${tag.key}`, tag });
          break;
        }
        case "BudgetLimit": {
          const r = rule as (typeof spec.rules)[number];
          scope = undefined;
          checks.push({
            kind: "budget",
            field: "tags",
            selector: r.selector,
            denyOnForecastOverrun: r.denyOnForecastOverrun ?? false,
          });
          break;
        }
      }
      for (const c of rule.checks ?? []) {
        const node: CheckNode = { kind: "check", field: c.field, op: c.op, value: c.value };
        if (c.message !== undefined) node.message = c.message;
        checks.push(node);
      }
      rules.push(
        deepFreeze({
          policy: metadata.name,
          rule: rule.name,
          namespace: metadata.namespace,
          enforcement: rule.enforcement ?? spec.enforcement ?? DEFAULT_ENFORCEMENT,
          severity: rule.severity ?? spec.severity ?? DEFAULT_SEVERITY,
          scope,
          checks,
        }),
      );
    }
  }
  return Object.freeze(rules);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
