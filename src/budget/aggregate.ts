import { closest } from "../policy/suggest.js";
import type { ChargeDimensions, ChargeRecord, ChargeSink } from "./charge.js";
import { DecimalSums, type ExportedSums } from "./decimal-sums.js";
import { type BudgetDefinition, type SelectorCondition, selectorConditions } from "./definitions.js";
import type { CostColumn, DimensionColumn } from "./focus-columns.js";
import { type BudgetPeriod, DAY_MS, HOUR_MS, periodAt, RUN_RATE_DAYS } from "./periods.js";

/** Spend of one budget over one period, by hour, as far as the billing data goes up to `at`. */
export interface PeriodSpend {
  definition: BudgetDefinition;
  period: BudgetPeriod;
  /**
   * One exact sum per hour from LEAD_HOURS before the period start to `at` (ChargePeriodStart decides
   * the hour): the hours before the period are its spend's lead-in, read only by the forecast's
   * run-rate (a period's first days have too little data of their own), never counted as its spend.
   */
  hourly: DecimalSums;
  matchedCharges: number;
  /** Matching charges billed in another currency than the budget's: counted, never summed. */
  otherCurrencyCharges: number;
}

export interface SpendTotals {
  at: number;
  periods: PeriodSpend[];
  definitions: readonly BudgetDefinition[];
  /** Per definition (as `definitions`), what the rows showed of each selector condition. */
  evidence: ConditionEvidence[][];
  /** The latest ChargePeriodEnd (capped at `at`) of any row: how far the billing data reaches. */
  dataThrough: number | null;
  /**
   * The earliest ChargePeriodStart before `at` of any row: where the billing data begins. Before it
   * spend is unknown, not nothing (the forecast's run-rate does not count those hours).
   */
  dataFrom: number | null;
  /** Rows whose ChargePeriodStart is at or after `at` (ignored: a replay at `at` cannot see them). */
  chargesAfterAt: number;
}

/** Hours of spend kept before each period's start: the forecast's run-rate window. */
export const LEAD_HOURS = RUN_RATE_DAYS * 24;
const LEAD_MS = LEAD_HOURS * HOUR_MS;

/**
 * A sink that sums matching charges per budget, period and hour. Memory is fixed by the budgets (one
 * pair of Float64Arrays per budget-period hour) and a bounded cache of selector matches per distinct
 * dimension set, never by the number of rows.
 */
export function createSpendAggregator(definitions: readonly BudgetDefinition[], at: number): SpendAggregator {
  const costColumns = [...new Set(definitions.map((d) => d.costColumn))];
  const dimensions = selectorColumns(definitions);
  const periods: PeriodSpend[] = [];
  const trackers: {
    spend: PeriodSpend;
    cost: number;
    start: number;
    currency: string;
    hourly: DecimalSums;
  }[] = [];
  const byDefinition: number[][] = [];
  for (const definition of definitions) {
    const ids: number[] = [];
    for (const limit of definition.limits) {
      const period = periodAt(limit.period, at);
      const hours = Math.max(1, Math.ceil((Math.min(at, period.end) - period.start) / HOUR_MS));
      const spend: PeriodSpend = {
        definition,
        period,
        hourly: new DecimalSums(LEAD_HOURS + hours),
        matchedCharges: 0,
        otherCurrencyCharges: 0,
      };
      periods.push(spend);
      ids.push(trackers.length);
      trackers.push({
        spend,
        cost: costColumns.indexOf(definition.costColumn),
        start: period.start - LEAD_HOURS * HOUR_MS,
        currency: definition.currency,
        hourly: spend.hourly,
      });
    }
    byDefinition.push(ids);
  }
  const evidence: ConditionEvidence[][] = definitions.map((d) =>
    selectorConditions(d.selector).map((c) => ({ ...c, met: false, seen: new Set(), keys: new Set() })),
  );
  const earliest = trackers.reduce((m, t) => Math.min(m, t.start), at);
  // Selector matches by dimension key (keys are small dense integers within an epoch).
  let matchCache: (Int32Array | undefined)[] = [];
  let epoch = 0;
  const NONE = new Int32Array(0);
  let dataThrough: number | null = null;
  let dataFrom: number | null = null;
  let chargesAfterAt = 0;

  const matching = (charge: ChargeRecord): Int32Array => {
    if (charge.keyEpoch !== epoch) {
      matchCache = [];
      epoch = charge.keyEpoch;
    }
    const key = charge.dimensionKey;
    let found = matchCache[key];
    if (found === undefined) {
      const dims = charge.dimensions();
      const ids: number[] = [];
      for (let d = 0; d < evidence.length; d++) {
        // Once per distinct dimension set: whether it matches (every condition met), and for the
        // conditions it does not meet, what it holds instead.
        let all = true;
        for (const c of evidence[d]!) if (!observe(c, dims)) all = false;
        if (all) ids.push(...byDefinition[d]!);
      }
      found = ids.length === 0 ? NONE : Int32Array.from(ids);
      matchCache[key] = found;
    }
    return found;
  };

  // The hot path reads trackers from typed arrays; counts are copied into `periods` when read.
  const count = trackers.length;
  const trackerStart = Float64Array.from(trackers, (t) => t.start);
  const trackerCost = Int32Array.from(trackers, (t) => t.cost);
  const trackerHourly = trackers.map((t) => t.hourly);
  const matched = new Float64Array(count);
  const otherCurrency = new Float64Array(count);
  /** Whether each tracker's currency is `lastCurrency` (readers hand the same string while it repeats). */
  const sameCurrency = new Uint8Array(count);
  let lastCurrency: string | null = null;
  const syncCounts = () => {
    for (let t = 0; t < count; t++) {
      trackers[t]!.spend.matchedCharges = matched[t]!;
      trackers[t]!.spend.otherCurrencyCharges = otherCurrency[t]!;
    }
  };

  const sink: ChargeSink = (charge) => {
    const start = charge.start;
    if (start >= at) {
      chargesAfterAt++;
      return;
    }
    const end = Number.isNaN(charge.end) ? start : charge.end;
    // How far the data reaches: a charge over more than a day (a monthly fee, a subscription) tells
    // of its first day only, or one such row would pass billing weeks old for current.
    const reach = Math.min(end - start > DAY_MS ? start + DAY_MS : end, at);
    if (dataThrough === null || reach > dataThrough) dataThrough = reach;
    if (dataFrom === null || start < dataFrom) dataFrom = start;
    if (start < earliest) return;
    const ids = matching(charge);
    if (ids.length === 0) return;
    const currency = charge.currency;
    if (currency !== lastCurrency) {
      lastCurrency = currency;
      for (let t = 0; t < count; t++) sameCurrency[t] = trackers[t]!.currency === currency ? 1 : 0;
    }
    const costs = charge.costs;
    for (let i = 0; i < ids.length; i++) {
      const t = ids[i]!;
      const offset = start - trackerStart[t]!;
      if (offset < 0) continue;
      // Counted as the period's charges from its start; the lead-in before it is summed only.
      const inPeriod = offset >= LEAD_MS;
      if (sameCurrency[t] === 0) {
        if (inPeriod) otherCurrency[t]!++;
        continue;
      }
      if (inPeriod) matched[t]!++;
      // Whole hours since the period start: non-negative and far below 2^31, so `| 0` floors.
      trackerHourly[t]!.add((offset / HOUR_MS) | 0, costs[trackerCost[t]!]!);
    }
  };

  return {
    sink,
    costColumns,
    dimensions,
    totals: () => {
      syncCounts();
      return { at, periods, dataThrough, dataFrom, chargesAfterAt, definitions, evidence };
    },
    exportPartial: () => {
      syncCounts();
      return {
        periods: periods.map((p) => ({
          sums: p.hourly.export(),
          matchedCharges: p.matchedCharges,
          otherCurrencyCharges: p.otherCurrencyCharges,
        })),
        dataThrough,
        dataFrom,
        chargesAfterAt,
        evidence: evidence.map((conditions) =>
          conditions.map((c) => ({ met: c.met, seen: [...c.seen], keys: [...c.keys] })),
        ),
      };
    },
    absorb(partial) {
      partial.evidence.forEach((conditions, d) => {
        conditions.forEach((c, i) => {
          const mine = evidence[d]![i]!;
          mine.met ||= c.met;
          for (const v of c.seen) if (mine.seen.size < SEEN_VALUES) mine.seen.add(v);
          for (const k of c.keys) if (mine.keys.size < SEEN_VALUES) mine.keys.add(k);
        });
      });
      // periods[i] is trackers[i]: both are built in the same order.
      partial.periods.forEach((p, i) => {
        periods[i]!.hourly.absorb(p.sums);
        matched[i]! += p.matchedCharges;
        otherCurrency[i]! += p.otherCurrencyCharges;
      });
      if (partial.dataThrough !== null && (dataThrough === null || partial.dataThrough > dataThrough))
        dataThrough = partial.dataThrough;
      if (partial.dataFrom !== null && (dataFrom === null || partial.dataFrom < dataFrom))
        dataFrom = partial.dataFrom;
      chargesAfterAt += partial.chargesAfterAt;
    },
  };
}

export interface SpendAggregator {
  sink: ChargeSink;
  /** The cost columns and dimension columns a reader must provide. */
  costColumns: CostColumn[];
  dimensions: DimensionColumn[];
  totals: () => SpendTotals;
  /** What this aggregator summed, as data another thread can send back (parallel ingest). */
  exportPartial: () => PartialSpend;
  /** Adds another aggregator's partial sums (of the same definitions and `at`). */
  absorb: (partial: PartialSpend) => void;
}

export interface PartialSpend {
  periods: { sums: ExportedSums; matchedCharges: number; otherCurrencyCharges: number }[];
  dataThrough: number | null;
  dataFrom: number | null;
  chargesAfterAt: number;
  evidence: { met: boolean; seen: string[]; keys: string[] }[][];
}

/** Values a condition keeps of those it did not meet, for the hint: enough to find a misspelling. */
const SEEN_VALUES = 200;

/**
 * One condition of a budget's selector (a tag, the provider, the sub-account, the service, the region)
 * and what the billing rows in the budget's periods showed of it: whether any met it, and the values
 * they held instead. A selector that matches nothing says which condition never held, and the values
 * that came closest (a tag value misspelt watches nothing, and its alerts never fire).
 */
export interface ConditionEvidence extends SelectorCondition {
  met: boolean;
  seen: Set<string>;
  /** For a tag: the tag keys rows lacking it hold (`Project` where `project` is asked). */
  keys: Set<string>;
}

/** Whether the charge meets the condition; when not, notes what it holds instead. */
function observe(c: ConditionEvidence, dims: ChargeDimensions): boolean {
  if (c.meets(dims)) {
    c.met = true;
    return true;
  }
  let found = false;
  for (const v of c.values(dims))
    if (typeof v === "string" && v !== "") {
      found = true;
      if (c.seen.size < SEEN_VALUES) c.seen.add(v);
    }
  if (!found && c.tagKey !== undefined)
    for (const k of Object.keys(dims.tags)) if (c.keys.size < SEEN_VALUES) c.keys.add(k);
  return false;
}

/**
 * For each budget no charge in its periods matched (none in another currency either) while the data
 * reaches into them: why, in words — the condition no row met, with the values rows held instead and
 * the closest of them. Empty for budgets that matched something.
 */
export function unmatchedBudgets(totals: SpendTotals): string[] {
  const out: string[] = [];
  totals.definitions.forEach((d, i) => {
    const mine = totals.periods.filter((q) => q.definition === d);
    if (mine.length === 0 || mine.some((q) => q.matchedCharges > 0 || q.otherCurrencyCharges > 0)) return;
    const start = Math.min(...mine.map((q) => q.period.start));
    if (totals.dataThrough === null || totals.dataThrough <= start) return;
    const failing = totals.evidence[i]!.filter((c) => !c.met);
    const why =
      failing.length === 0
        ? "each of its conditions holds for some charge, but none holds for all of them at once"
        : failing.map(describeMiss).join("; ");
    const labels = mine.map((q) => q.period.label).join(" and ");
    out.push(
      `${d.policy}/${d.rule}: no charge in ${labels} matches its selector (misspelt, it watches nothing): ${why}`,
    );
  });
  return out;
}

function describeMiss(c: ConditionEvidence): string {
  const values = [...c.seen].sort();
  if (values.length === 0) {
    const keys = [...c.keys].sort();
    const near = c.tagKey === undefined ? undefined : closest(c.tagKey, keys);
    return `no charge has ${c.what} at all${keys.length === 0 ? "" : ` (the data's tags: ${list(keys)}${near !== undefined ? ` — did you mean ${near}?` : ""})`}`;
  }
  const near = closest(c.wanted, values);
  return `no charge has ${c.what} ${c.wanted} (the data has ${list(values)}${near !== undefined ? ` — did you mean ${near}?` : ""})`;
}

/** Up to eight values, and how many there are when more. */
function list(values: readonly string[]): string {
  return values.slice(0, 8).join(", ") + (values.length > 8 ? `, … (${values.length} in all)` : "");
}

/** The FOCUS columns the selectors look at: only these need to be read and keyed per row. */
function selectorColumns(definitions: readonly BudgetDefinition[]): DimensionColumn[] {
  return [...new Set(selectorColumnGroups(definitions).flat())];
}

/** The columns each selector dimension in use matches on, any one of a group being enough. */
export function selectorColumnGroups(definitions: readonly BudgetDefinition[]): DimensionColumn[][] {
  const groups = new Map<string, DimensionColumn[]>();
  for (const { selector } of definitions) {
    if (selector.tags !== undefined) groups.set("tags", ["Tags"]);
    if (selector.provider !== undefined) groups.set("provider", ["ProviderName"]);
    if (selector.subAccount !== undefined) groups.set("subAccount", ["SubAccountId", "SubAccountName"]);
    if (selector.service !== undefined) groups.set("service", ["ServiceName"]);
    if (selector.region !== undefined) groups.set("region", ["RegionId", "RegionName"]);
  }
  return [...groups.values()];
}
