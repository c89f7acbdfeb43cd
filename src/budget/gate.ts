import type { ResourceRequest } from "../engine/types.js";
import type { BudgetSelector, Enforcement } from "../policy/types.js";
import { add, compare, type Decimal, decimal, div, formatMoney, mul, toText } from "./decimal.js";
import { HOUR_MS } from "./periods.js";
import { type BudgetState, type BudgetStatus, staleBillingData } from "./state.js";

/** Estimated monthly cost of a request (the price book's answer), in the budget's currency. */
export type MonthlyCostEstimator = (request: ResourceRequest) => Decimal | string | number | undefined;

/** What gates know about budgets: pure data computed beforehand from billing, plus a cost estimator. */
export interface BudgetGateOptions {
  state: BudgetState;
  /** Defaults to the estimate the request carries (the price book's `cost.monthly`; see requestMonthlyCost). */
  estimateMonthly?: MonthlyCostEstimator;
  /** Evaluation instant (ms); a state for another period than the one containing it is not used. */
  at?: number;
  /**
   * Hours the billing data may end before the evaluation instant (default MAX_DATA_LAG_HOURS). Older
   * data still proves a block it shows; its other rules are listed under not_evaluated.
   */
  maxDataLagHours?: number;
}

export interface BudgetFinding {
  kind: "blocked" | "forecast-overrun" | "no-estimate" | "stale" | "missing";
  enforcement: Enforcement;
  field: string;
  actual: unknown;
  limit: unknown;
  message: string;
}

const HOURS_PER_MONTH = decimal(730);

/**
 * Reads an estimate the request carries: `cost.monthly` as the price book's enricher writes it (see
 * src/pricing/enrich.ts), else `estimated_monthly_cost`, `monthly_cost`, or `hourly_cost` × 730.
 */
export function requestMonthlyCost(request: ResourceRequest): Decimal | undefined {
  const read = (v: unknown): Decimal | undefined => {
    if (typeof v === "number" && Number.isFinite(v)) return decimal(v);
    if (typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v)) return decimal(v);
    if (v !== null && typeof v === "object" && "amount" in v) return read((v as { amount: unknown }).amount);
    return undefined;
  };
  const cost = request.cost as { status?: unknown; monthly?: unknown } | undefined;
  const priced =
    cost !== null && typeof cost === "object" && cost.status !== "unknown" ? read(cost.monthly) : undefined;
  const monthly = priced ?? read(request.estimated_monthly_cost) ?? read(request.monthly_cost);
  if (monthly !== undefined) return monthly;
  const hourly = read(request.hourly_cost);
  return hourly === undefined ? undefined : mul(hourly, HOURS_PER_MONTH);
}

/** Whether a request falls under a budget: its tags match, and so do provider/region/account it states. */
export function compileRequestSelector(selector: BudgetSelector): (request: ResourceRequest) => boolean {
  const tags = Object.entries(selector.tags ?? {});
  const { subAccount } = selector;
  // Provider and region in any case, as the billing data is matched and requests are priced: a
  // request for `US-EAST-1` falls under a us-east-1 budget rather than slip past its block.
  const provider = selector.provider?.toLowerCase();
  const region = selector.region?.toLowerCase();
  return (request) => {
    const t = request.tags;
    for (const [k, v] of tags) if (t?.[k] !== v) return false;
    if (provider !== undefined && typeof request.provider === "string") {
      if (request.provider.toLowerCase() !== provider) return false;
    }
    if (region !== undefined && typeof request.region === "string" && request.region.toLowerCase() !== region)
      return false;
    if (subAccount !== undefined && typeof request.account === "string" && request.account !== subAccount)
      return false;
    return true;
  };
}

/**
 * Compiles the gate side of one BudgetLimit rule: returns the findings for a matching request, or null
 * when the state has no figures for the rule (the engine then reports it as not evaluated).
 */
export function compileBudgetGate(
  options: BudgetGateOptions,
  rule: { policy: string; rule: string; enforcement: Enforcement; denyOnForecastOverrun: boolean },
): ((request: ResourceRequest) => BudgetFinding[]) | null {
  const statuses = options.state.budgets.filter((b) => b.policy === rule.policy && b.rule === rule.rule);
  if (statuses.length === 0) return null;
  const estimate = options.estimateMonthly ?? requestMonthlyCost;
  const stateAt = Date.parse(options.state.at);
  const at = options.at ?? stateAt;
  const overrunEnforcement: Enforcement = rule.denyOnForecastOverrun
    ? rule.enforcement
    : rule.enforcement === "audit"
      ? "audit"
      : "warn";
  const stale = staleBillingData(options.state, at, options.maxDataLagHours);
  const prepared = statuses.map((s) => ({
    status: s,
    limit: decimal(s.limit),
    forecast: decimal(s.forecast),
    // Hours from the state's instant to the period end: how long a new resource adds cost this period.
    remaining: decimal(
      Math.max(0, (Date.parse(s.periodEnd) - Math.max(stateAt, Date.parse(s.periodStart))) / HOUR_MS),
    ),
    current: at >= Date.parse(s.periodStart) && at < Date.parse(s.periodEnd),
  }));
  return (request) => {
    const out: BudgetFinding[] = [];
    let monthly: Decimal | undefined | null = null;
    for (const p of prepared) {
      const s = p.status;
      const name = `${s.policy}/${s.rule}`;
      if (!p.current) {
        out.push({
          kind: "stale",
          enforcement: "audit",
          field: "budget",
          actual: s.periodLabel,
          limit: null,
          message: `budget state for ${name} is for ${s.periodLabel}, not for the evaluation time`,
        });
        continue;
      }
      if (s.blocked) {
        const t = s.thresholds.filter((x) => x.action === "block-new-resources" && x.reached === "actual");
        out.push({
          kind: "blocked",
          enforcement: rule.enforcement,
          field: "tags",
          actual: `${s.spend} ${s.currency}`,
          limit: `${s.limit} ${s.currency}`,
          message:
            `Budget ${name} (${s.period}, ${s.periodLabel}) has spent ${money(s.spend, s)} of its ${money(s.limit, s)} limit ` +
            `(${s.percent}%, block-new-resources at ${t.map((x) => `${x.percent}%`).join(", ")}): new resources are blocked`,
        });
      }
      if (stale !== undefined) {
        // Spend so far only grows: old data still proves a block, but not that a budget has room.
        if (!s.blocked)
          out.push({
            kind: "stale",
            enforcement: "audit",
            field: "budget",
            actual: options.state.dataThrough,
            limit: null,
            message: `budget ${name} is not judged: ${stale}`,
          });
        continue;
      }
      if (monthly === null) {
        const e = estimate(request);
        monthly = e === undefined ? undefined : typeof e === "object" ? e : decimal(e);
      }
      if (monthly === undefined) {
        if (compare(p.forecast, p.limit) > 0) {
          out.push({
            kind: "no-estimate",
            enforcement: "audit",
            field: "estimated_monthly_cost",
            actual: null,
            limit: `${s.limit} ${s.currency}`,
            message: `Budget ${name} is forecast at ${money(s.forecast, s)} of ${money(s.limit, s)} (${s.forecastPercent}%) this ${periodWord(s)}; the request has no cost estimate to weigh`,
          });
        }
        continue;
      }
      const added = div(mul(monthly, p.remaining), HOURS_PER_MONTH, 6);
      const withRequest = add(p.forecast, added);
      if (compare(withRequest, p.limit) > 0) {
        out.push({
          kind: "forecast-overrun",
          enforcement: overrunEnforcement,
          field: "estimated_monthly_cost",
          // What is weighed against the limit (and the message says): the forecast with the request.
          actual: `${toText(withRequest)} ${s.currency}`,
          limit: `${s.limit} ${s.currency}`,
          message:
            `Request adds an estimated ${money(monthly, s)}/month (${money(added, s)} for the rest of ${s.periodLabel}): ` +
            `budget ${name} would be forecast at ${money(withRequest, s)}, past its ${s.period} limit of ${money(s.limit, s)}`,
        });
      }
    }
    return out;
  };
}

function money(value: string | Decimal, s: BudgetStatus): string {
  return `${formatMoney(typeof value === "string" ? decimal(value) : value, s.currency)} ${s.currency}`;
}

function periodWord(s: BudgetStatus): string {
  return s.period === "monthly" ? "month" : "quarter";
}
