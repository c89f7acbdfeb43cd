import { closest } from "../policy/suggest.js";
import type { ChargeDimensions, ChargeRecord, ChargeSink } from "./charge.js";
import { add, type Decimal } from "./decimal.js";
import { DecimalSums, type ExportedSums } from "./decimal-sums.js";
import { type BudgetDefinition, type SelectorCondition, selectorConditions } from "./definitions.js";
import type { CostColumn, DimensionColumn } from "./focus-columns.js";
import { type BudgetPeriod, DAY_MS, HOUR_MS, periodAt, RUN_RATE_DAYS } from "./periods.js";

/** Spend of one budget over one period, by hour, as far as the billing data goes up to `at`. */
export interface PeriodSpend {
  definition: BudgetDefinition;
  period: BudgetPeriod;
  /** One exact sum per hour from the period start to `at` (ChargePeriodStart decides the hour). */
  hourly: DecimalSums;
  /**
   * The period's lead-in: the hours before its start that the forecast's run-rate may read (a period's
   * first days have too little data of their own), never counted as its spend. A ring of LEAD_RING
   * hours, hour h (since the epoch) at h % LEAD_RING, holding those from `leadInFrom(dataThrough)` on:
   * the run-rate's window ends where the data ends, however long before the period start that is.
   */
  leadIn: DecimalSums;
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

/** Hours of the forecast's run-rate window: those kept of each period's lead-in. */
export const LEAD_HOURS = RUN_RATE_DAYS * 24;
/**
 * Slots of a lead-in ring: the window's hours and the hour the data ends in (a charge of no duration
 * starting on the hour the data ends at is in neither the window nor another hour's slot).
 */
const LEAD_RING = LEAD_HOURS + 1;

/**
 * The first hour (since the epoch) the run-rate's window may cover when the data reaches `dataThrough`:
 * LEAD_HOURS before the hour the data ends in. Lead-in hours before it are dropped.
 */
export function leadInFrom(dataThrough: number): number {
  return Math.ceil(dataThrough / HOUR_MS) - LEAD_HOURS;
}

/**
 * Exact spend of a period's hours [from, to) (hours since the epoch): its own hours, and before its
 * start its lead-in's, which holds hours from `leadInFrom(dataThrough)` only (earlier ones are zero here).
 */
export function spendOfHours(p: PeriodSpend, dataThrough: number, from: number, to: number): Decimal {
  const startHour = p.period.start / HOUR_MS;
  let sum = p.hourly.total(Math.max(0, from - startHour), Math.max(0, to - startHour));
  const kept = leadInFrom(dataThrough);
  for (let h = Math.max(from, kept); h < Math.min(to, startHour, kept + LEAD_RING); h++)
    sum = add(sum, p.leadIn.total(leadSlot(h), leadSlot(h) + 1));
  return sum;
}

/** The lead-in ring's slot of hour `h` since the epoch (negative before 1970). */
function leadSlot(h: number): number {
  return ((h % LEAD_RING) + LEAD_RING) % LEAD_RING;
}

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
    leadIn: DecimalSums;
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
        hourly: new DecimalSums(hours),
        leadIn: new DecimalSums(LEAD_RING),
        matchedCharges: 0,
        otherCurrencyCharges: 0,
      };
      periods.push(spend);
      ids.push(trackers.length);
      trackers.push({
        spend,
        cost: costColumns.indexOf(definition.costColumn),
        start: period.start,
        currency: definition.currency,
        hourly: spend.hourly,
        leadIn: spend.leadIn,
      });
    }
    byDefinition.push(ids);
  }
  const evidence: ConditionEvidence[][] = definitions.map((d) =>
    selectorConditions(d.selector).map((c) => ({ ...c, met: false, seen: new Set(), keys: new Set() })),
  );
  const firstStart = trackers.reduce((m, t) => Math.min(m, t.start), at);
  const lastStartHour = trackers.reduce((m, t) => Math.max(m, t.start / HOUR_MS), 0);
  /** The first lead-in hour kept (leadInFrom(dataThrough)), and the earliest charge start summed. */
  let keptFrom = Number.NEGATIVE_INFINITY;
  let earliest = firstStart;
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
  const trackerLeadIn = trackers.map((t) => t.leadIn);
  const matched = new Float64Array(count);
  const otherCurrency = new Float64Array(count);
  /** Whether each tracker's currency is `lastCurrency` (readers hand the same string while it repeats). */
  const sameCurrency = new Uint8Array(count);
  let lastCurrency: string | null = null;
  /**
   * The data now reaches `through`: lead-in hours the run-rate's window can no longer cover are
   * cleared, their slots free for later hours. Memory stays LEAD_RING hours per period, however far
   * before a period's start the data ends and in whatever order its rows come.
   */
  const reachTo = (through: number) => {
    const from = leadInFrom(through);
    if (from <= keptFrom) return;
    // The ring held hours from keptFrom on, and only those before some period's start: it is empty
    // before the first charge, and clearing one ring's worth clears it all.
    const to = Math.min(from, lastStartHour);
    if (keptFrom !== Number.NEGATIVE_INFINITY)
      for (let h = Math.max(keptFrom, to - LEAD_RING); h < to; h++)
        for (let t = 0; t < count; t++) trackerLeadIn[t]!.clear(leadSlot(h));
    keptFrom = from;
    earliest = Math.min(firstStart, from * HOUR_MS);
  };
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
    if (dataThrough === null || reach > dataThrough) {
      dataThrough = reach;
      reachTo(reach);
    }
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
      if (offset < 0) {
        // The lead-in: summed for the run-rate only, not counted as the period's charges.
        if (sameCurrency[t] === 0) continue;
        const h = Math.floor(start / HOUR_MS);
        if (h >= keptFrom) trackerLeadIn[t]!.add(leadSlot(h), costs[trackerCost[t]!]!);
        continue;
      }
      if (sameCurrency[t] === 0) {
        otherCurrency[t]!++;
        continue;
      }
      matched[t]!++;
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
          leadIn: p.leadIn.export(),
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
      if (partial.dataThrough !== null && (dataThrough === null || partial.dataThrough > dataThrough)) {
        dataThrough = partial.dataThrough;
        reachTo(dataThrough);
      }
      // The partial's lead-in slots hold hours from its own leadInFrom on: those before ours are out of
      // the window (ours reaches as far or further); the others are the same hours in the same slots.
      const theirs = partial.dataThrough === null ? null : leadInFrom(partial.dataThrough);
      const current = (slot: number) => theirs !== null && theirs + leadSlot(slot - theirs) >= keptFrom;
      // periods[i] is trackers[i]: both are built in the same order.
      partial.periods.forEach((p, i) => {
        periods[i]!.hourly.absorb(p.sums);
        periods[i]!.leadIn.absorb(p.leadIn, current);
        matched[i]! += p.matchedCharges;
        otherCurrency[i]! += p.otherCurrencyCharges;
      });
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
  periods: {
    sums: ExportedSums;
    leadIn: ExportedSums;
    matchedCharges: number;
    otherCurrencyCharges: number;
  }[];
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
