import type { AlertThreshold } from "../policy/types.js";
import { LEAD_HOURS, type PeriodSpend, type SpendTotals, spendOfHours } from "./aggregate.js";
import type { IngestReport } from "./charge.js";
import { add, compare, type Decimal, decimal, div, mul, toNumber, toText, ZERO } from "./decimal.js";
import type { CostColumn } from "./focus-columns.js";
import { type BudgetPeriodKind, DAY_MS, HOUR_MS, RUN_RATE_DAYS } from "./periods.js";

export { RUN_RATE_DAYS };

export const FORECAST_METHOD =
  `forecast = spend so far + run-rate × time left in the period; run-rate = spend of the last ${RUN_RATE_DAYS} ` +
  "days of billing data ÷ that span (reaching back before the period's start when it is younger, fewer days only " +
  "where the data begins), ending where the data ends (its latest ChargePeriodEnd, capped at the evaluation time)";

/**
 * How far billing data may end before the evaluation time and still be judged by (hours). Exports
 * lag a day or two; data that ends longer ago than this says nothing of spend since, and a budget
 * judged by it would pass whatever was spent meanwhile.
 */
export const MAX_DATA_LAG_HOURS = 72;

/**
 * Why budget figures cannot be judged at `at`: the billing data ends more than `maxLagHours` before
 * it, or has no charges before it. Undefined when the data is recent enough.
 */
export function staleBillingData(
  state: Pick<BudgetState, "dataThrough">,
  at: number,
  maxLagHours = MAX_DATA_LAG_HOURS,
): string | undefined {
  if (state.dataThrough === null) return "the billing data has no charges before the evaluation time";
  const lag = at - Date.parse(state.dataThrough);
  if (lag <= maxLagHours * HOUR_MS) return undefined;
  const days = lag / DAY_MS;
  return `the billing data ends ${state.dataThrough}, ${days >= 2 ? `${Math.floor(days)} days` : `${Math.round(lag / HOUR_MS)} hours`} before the evaluation time (more than the ${maxLagHours} hours an export may lag)`;
}

export type ThresholdBasis = "actual" | "forecast";

export interface ThresholdStatus extends AlertThreshold {
  /** Reached on spend so far, only on the forecast, or not (null). */
  reached: ThresholdBasis | null;
}

export type BudgetCondition = "ok" | "alert" | "at-risk" | "over" | "blocked";

/** Where one budget stands in one period. Money is exact decimal text in the budget's currency. */
export interface BudgetStatus {
  policy: string;
  rule: string;
  period: BudgetPeriodKind;
  periodLabel: string;
  periodStart: string;
  periodEnd: string;
  currency: string;
  costColumn: CostColumn;
  limit: string;
  spend: string;
  /** spend ÷ limit × 100, cut (not rounded) to two places. */
  percent: number;
  forecast: string;
  forecastPercent: number;
  runRatePerDay: string;
  matchedCharges: number;
  otherCurrencyCharges: number;
  thresholds: ThresholdStatus[];
  /** A `block-new-resources` threshold is reached on actual spend: gates deny new matching requests. */
  blocked: boolean;
  state: BudgetCondition;
}

export interface BudgetSource {
  file: string;
  format: IngestReport["format"];
  focusVersion: IngestReport["focusVersion"];
  rows: number;
  charges: number;
  malformed: number;
  chargesAfterAt: number;
}

/** Budget state: pure data, computed from billing before any gate runs, saved and reloaded as JSON. */
export interface BudgetState {
  kind: "costguard.budget-state";
  version: 1;
  /** The instant the state describes (`--at`, else now). */
  at: string;
  dataThrough: string | null;
  forecastMethod: string;
  source?: BudgetSource;
  budgets: BudgetStatus[];
}

const HUNDRED = decimal(100);

export function computeBudgetState(totals: SpendTotals, report?: IngestReport): BudgetState {
  const state: BudgetState = {
    kind: "costguard.budget-state",
    version: 1,
    at: new Date(totals.at).toISOString(),
    dataThrough: totals.dataThrough === null ? null : new Date(totals.dataThrough).toISOString(),
    forecastMethod: FORECAST_METHOD,
    budgets: totals.periods.map((p) => periodStatus(p, totals)),
  };
  if (report) {
    state.source = {
      file: report.file,
      format: report.format,
      focusVersion: report.focusVersion,
      rows: report.rows,
      charges: report.charges,
      malformed: report.malformed,
      chargesAfterAt: totals.chargesAfterAt,
    };
  }
  return state;
}

function periodStatus(p: PeriodSpend, totals: SpendTotals): BudgetStatus {
  const { definition: def, period } = p;
  const limit = def.limits.find((l) => l.period === period.kind)!.amount;
  const spend = p.hourly.total();
  const startHour = period.start / HOUR_MS;
  // The data horizon: the hour (since the epoch) where the data ends, and the hours of it in the period.
  const dataThrough = totals.dataThrough;
  const horizon = dataThrough === null ? startHour : Math.ceil(Math.min(dataThrough, period.end) / HOUR_MS);
  const dataHours = Math.max(0, horizon - startHour);
  // The run-rate's window is the last RUN_RATE_DAYS of the data, ending at the horizon: before the
  // period's start when the period is younger than it (a fee on the 1st over one hour of the month, or
  // an export lagging into a new month, would otherwise be the whole forecast), however long before it
  // the data ends (the lead-in is kept from the data's end, not the period's start: an export a few
  // days late read a shorter window, or none) — but not before the hour where the data begins: spend
  // before an export's first charge is unknown, and counted as nothing it divided a new export's rate
  // by the days it does not have (two days of data read as 2/7 of their rate).
  const firstHour = totals.dataFrom === null ? horizon : Math.floor(totals.dataFrom / HOUR_MS);
  const windowHours = dataThrough === null ? 0 : Math.max(0, Math.min(horizon - firstHour, LEAD_HOURS));
  const remainingHours = Math.max(0, (period.end - period.start) / HOUR_MS - dataHours);
  let forecast = spend;
  let runRatePerDay = ZERO;
  if (windowHours > 0) {
    const windowSpend = spendOfHours(p, dataThrough!, horizon - windowHours, horizon);
    const hours = decimal(windowHours);
    forecast = add(spend, div(mul(windowSpend, decimal(remainingHours)), hours));
    runRatePerDay = div(mul(windowSpend, decimal(24)), hours);
  }
  const thresholds: ThresholdStatus[] = def.thresholds.map((t) => {
    const mark = div(mul(limit, decimal(t.percent)), HUNDRED, 20);
    const reached = compare(spend, mark) >= 0 ? "actual" : compare(forecast, mark) >= 0 ? "forecast" : null;
    return { ...t, reached };
  });
  const blocked = thresholds.some((t) => t.action === "block-new-resources" && t.reached === "actual");
  const state: BudgetCondition = blocked
    ? "blocked"
    : compare(spend, limit) >= 0
      ? "over"
      : compare(forecast, limit) > 0
        ? "at-risk"
        : thresholds.some((t) => t.reached !== null)
          ? "alert"
          : "ok";
  return {
    policy: def.policy,
    rule: def.rule,
    period: period.kind,
    periodLabel: period.label,
    periodStart: new Date(period.start).toISOString(),
    periodEnd: new Date(period.end).toISOString(),
    currency: def.currency,
    costColumn: def.costColumn,
    limit: toText(limit),
    spend: toText(spend),
    percent: share(spend, limit),
    forecast: toText(forecast),
    forecastPercent: share(forecast, limit),
    runRatePerDay: toText(runRatePerDay),
    matchedCharges: p.matchedCharges,
    otherCurrencyCharges: p.otherCurrencyCharges,
    thresholds,
    blocked,
    state,
  };
}

/**
 * part ÷ whole × 100, cut toward zero to two places: 39.999 of 40 is 99.99%, never the 100% of a
 * threshold it has not reached.
 */
function share(part: Decimal, whole: Decimal): number {
  return toNumber(div(mul(part, HUNDRED), whole, 2, "cut"));
}
