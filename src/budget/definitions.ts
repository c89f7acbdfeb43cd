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

const lower = (s: string | null | undefined) => (s ?? "").toLowerCase();

/**
 * A charge matches when every selector field does: tags exactly (key and value), provider
 * case-insensitively, subAccount by id or name, service by name, region by id or name.
 */
export function compileChargeSelector(selector: BudgetSelector): (d: ChargeDimensions) => boolean {
  const tags = Object.entries(selector.tags ?? {});
  const { provider, subAccount, service, region } = selector;
  const wantProvider = provider === undefined ? undefined : provider.toLowerCase();
  return (d) => {
    for (let i = 0; i < tags.length; i++) {
      const [k, v] = tags[i]!;
      if (d.tags[k] !== v) return false;
    }
    if (wantProvider !== undefined && lower(d.provider) !== wantProvider) return false;
    if (subAccount !== undefined && d.subAccountId !== subAccount && d.subAccountName !== subAccount)
      return false;
    if (service !== undefined && d.service !== service) return false;
    if (region !== undefined && d.regionId !== region && d.regionName !== region) return false;
    return true;
  };
}
