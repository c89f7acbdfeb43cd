import {
  type AlertThreshold,
  type BudgetSelector,
  DEFAULT_ENFORCEMENT,
  DEFAULT_SEVERITY,
  type Enforcement,
  type LoadedPolicy,
  type Severity,
} from "../policy/types.js";
import { DEFAULT_CURRENCY } from "../pricing/money.js";
import type { ChargeDimensions } from "./charge.js";
import { type Decimal, decimal } from "./decimal.js";
import { type CostColumn, DEFAULT_COST_COLUMN } from "./focus-columns.js";
import type { BudgetPeriodKind } from "./periods.js";

export const DEFAULT_BUDGET_CURRENCY = DEFAULT_CURRENCY;

/** A BudgetLimit rule with every default resolved: what ingest and evaluation work from. */
export interface BudgetDefinition {
  policy: string;
  rule: string;
  enforcement: Enforcement;
  severity: Severity;
  selector: BudgetSelector;
  limits: { period: BudgetPeriodKind; amount: Decimal }[];
  currency: string;
  costColumn: CostColumn;
  thresholds: AlertThreshold[];
  denyOnForecastOverrun: boolean;
}

export interface BudgetDefinitionOptions {
  /** Cost column for rules that name none (default EffectiveCost). */
  costColumn?: CostColumn;
}

export function budgetDefinitions(
  policies: readonly LoadedPolicy[],
  options: BudgetDefinitionOptions = {},
): BudgetDefinition[] {
  const out: BudgetDefinition[] = [];
  for (const { document } of policies) {
    const { spec, metadata } = document;
    if (spec.type !== "BudgetLimit") continue;
    for (const rule of spec.rules) {
      const limits: BudgetDefinition["limits"] = [];
      if (rule.budget.monthly !== undefined)
        limits.push({ period: "monthly", amount: decimal(rule.budget.monthly) });
      if (rule.budget.quarterly !== undefined)
        limits.push({ period: "quarterly", amount: decimal(rule.budget.quarterly) });
      out.push({
        policy: metadata.name,
        rule: rule.name,
        enforcement: rule.enforcement ?? spec.enforcement ?? DEFAULT_ENFORCEMENT,
        severity: rule.severity ?? spec.severity ?? DEFAULT_SEVERITY,
        selector: rule.selector,
        limits,
        currency: rule.budget.currency ?? DEFAULT_BUDGET_CURRENCY,
        costColumn: rule.budget.costColumn ?? options.costColumn ?? DEFAULT_COST_COLUMN,
        thresholds: [...(rule.budget.alertThresholds ?? [])].sort((a, b) => a.percent - b.percent),
        denyOnForecastOverrun: rule.denyOnForecastOverrun ?? false,
      });
    }
  }
  return out;
}

/** One condition of a budget's selector: a tag, the provider, the sub-account, the service or the region. */
export interface SelectorCondition {
  /** `tag environment`, `provider`, `sub-account`, `service`, `region`. */
  what: string;
  /** The tag's key, for a tag condition. */
  tagKey?: string;
  wanted: string;
  /** Whether a charge meets it. */
  meets: (d: ChargeDimensions) => boolean;
  /** The charge's values for it (a tag's value; the region's id, else its name), for messages. */
  values: (d: ChargeDimensions) => (string | null | undefined)[];
}

/**
 * A selector's conditions; a charge matches when it meets every one: tags exactly (key and value),
 * provider case-insensitively, subAccount by id or name, service by name, region by id or name in any case.
 */
export function selectorConditions(selector: BudgetSelector): SelectorCondition[] {
  const out: SelectorCondition[] = [];
  for (const [key, value] of Object.entries(selector.tags ?? {}))
    out.push({
      what: `tag ${key}`,
      tagKey: key,
      wanted: value,
      meets: (d) => d.tags[key] === value,
      values: (d) => [d.tags[key]],
    });
  const { provider, subAccount, service, region } = selector;
  if (provider !== undefined) {
    const want = provider.toLowerCase();
    out.push({
      what: "provider",
      wanted: provider,
      meets: (d) => (d.provider ?? "").toLowerCase() === want,
      values: (d) => [d.provider],
    });
  }
  if (subAccount !== undefined)
    out.push({
      what: "sub-account",
      wanted: subAccount,
      meets: (d) => d.subAccountId === subAccount || d.subAccountName === subAccount,
      values: (d) => [d.subAccountId, d.subAccountName],
    });
  if (service !== undefined)
    out.push({
      what: "service",
      wanted: service,
      meets: (d) => d.service === service,
      values: (d) => [d.service],
    });
  if (region !== undefined) {
    // In any case, as gates match a request's region: `US-EAST-1` is us-east-1, `east us` is East US.
    const want = region.toLowerCase();
    out.push({
      what: "region",
      wanted: region,
      meets: (d) => (d.regionId ?? "").toLowerCase() === want || (d.regionName ?? "").toLowerCase() === want,
      values: (d) => [d.regionId || d.regionName],
    });
  }
  return out;
}
