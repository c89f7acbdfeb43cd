import type { ChargeRecord, IngestReport } from "../budget/charge.js";
import { pow10 } from "../budget/decimal.js";
import { FRACTION_DIGITS } from "../budget/decimal-sums.js";
import { PRICING_UNIT_COLUMN, RESOURCE_COLUMN } from "../budget/focus-columns.js";
import { readFocusFile } from "../budget/read-focus.js";
import type { Resource } from "../inventory/types.js";
import { type Amount, HOURS_PER_MONTH, SCALE_DIGITS } from "../money/exact.js";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** How far back a scan reads a resource's charges. */
export const BILLING_WINDOW_DAYS = 30;
/** Less than this much of a resource's charges says too little of its rate: the price book prices it. */
export const MIN_BILLED_HOURS = 24;

/**
 * What a resource was charged, as rates: `hourly`, what running it costs an hour (its charges priced
 * by the hour: instance hours, which stop when it stops), and `monthly`, everything charged to it (its
 * storage too, which only deleting it ends) over 730 hours.
 */
export interface BilledCost {
  hourly: Amount;
  monthly: Amount;
}

/** A PricingUnit of time running (`Hours`, `Hrs`, `vCPU-Hours`, `ACU-Hours`), not of storage held. */
const RUNNING_UNIT = /(^|[^a-z])(hours?|hrs?)$/i;
const STORAGE_UNIT = /^(gb|gib|tb)\b/i;

/** Whether charges priced in `unit` stop when the resource stops. */
export function isRunningUnit(unit: string | null): boolean {
  return unit !== null && RUNNING_UNIT.test(unit.trim()) && !STORAGE_UNIT.test(unit.trim());
}

/**
 * Running costs from a FOCUS billing export, by the resource ids a scan looks them up by. Plain data
 * (a worker thread is handed the same).
 */
export interface BillingCosts {
  file: string;
  /** The cost column summed: what was paid, commitments amortised and discounts taken. */
  column: "EffectiveCost";
  currency: string;
  /** resource id (or the key `billingKeys` gives a resource) → its running cost. */
  costs: Map<string, BilledCost>;
  /** The charges counted: from the window's start (or later: the export's first charge) through its last. */
  from: string | null;
  through: string | null;
  /** The first and last charge of the export in the currency, counted or not (ISO; null when none). */
  exportFrom: string | null;
  exportThrough: string | null;
  /** Rows counted: charges for a resource, in the currency, in the window. */
  counted: number;
  /** Rows in another currency (not counted). */
  otherCurrency: number;
  /** Rows with no ResourceId (taxes, support, shared and commitment purchases). */
  resourceless: number;
  /** Rows outside the window (older than it, or after the scan's clock). */
  outside: number;
  /** Resources with less than MIN_BILLED_HOURS of charges: left to the price book. */
  tooRecent: number;
  report: IngestReport;
}

/** A decimal amount in the scan's pico-units (truncated past the 12th place). */
function picoUnits(units: bigint, scale: number): Amount {
  return scale <= SCALE_DIGITS ? units * pow10(SCALE_DIGITS - scale) : units / pow10(scale - SCALE_DIGITS);
}

const FAST_SCALE = pow10(FRACTION_DIGITS);
/** A millionth and a hundredth of the currency, in pico-units. */
const MICRO = pow10(SCALE_DIGITS - 6);
const CENT = pow10(SCALE_DIGITS - 2);

/** A charge's EffectiveCost in pico-units, without making a string. */
function costOf(record: ChargeRecord): Amount {
  const c = record.costs[0]!;
  if (c.slow !== null) return picoUnits(c.slow.units, c.slow.scale);
  // FRACTION_DIGITS is SCALE_DIGITS: the fast form is already in pico-units.
  return BigInt(c.int) * FAST_SCALE + BigInt(c.frac);
}

/**
 * The keys a billing row's ResourceId is found by: itself, and for an Amazon Resource Name what the
 * scan's resources are named by — the id after the last `/` for EC2 (`...:instance/i-0abc` → `i-0abc`,
 * `...:volume/vol-0abc`), and `rds:REGION:ACCOUNT:NAME` for an RDS instance (`...:db:NAME`), whose
 * scanned id is its DbiResourceId.
 */
function rowKeys(resourceId: string): string[] {
  if (!resourceId.startsWith("arn:")) return [resourceId];
  const parts = resourceId.split(":");
  const [, , service, region, account] = parts;
  if (service === "rds" && parts[5] === "db" && parts[6])
    return [resourceId, `rds:${region}:${account}:${parts[6]}`];
  const slash = resourceId.lastIndexOf("/");
  return slash > 0 ? [resourceId, resourceId.slice(slash + 1)] : [resourceId];
}

/** The keys a scanned resource's charges are looked up by, in order. */
export function billingKeys(r: Resource): string[] {
  if (
    r.type === "database/instance" &&
    r.provider?.toLowerCase() === "aws" &&
    r.name &&
    r.region &&
    r.account
  )
    return [r.id, `rds:${r.region}:${r.account}:${r.name}`];
  return [r.id];
}

/** What a resource was charged, by its keys: undefined when the export has none for it. */
export function billedCost(costs: ReadonlyMap<string, BilledCost>, r: Resource): BilledCost | undefined {
  for (const key of billingKeys(r)) {
    const c = costs.get(key);
    if (c !== undefined) return c;
  }
  return undefined;
}

/**
 * Reads a FOCUS billing export (CSV, gzipped CSV or Parquet) into each resource's running cost: its
 * EffectiveCost charges in `currency` over the `days` before `at`, divided by the hours they cover
 * (from the resource's first charge in the window, or the window's start, to the export's last charge,
 * or `at`), so a resource created during the window, or an export a day or two behind, is priced at the
 * rate it was charged. Rows that cannot be read are counted in the report, as budgets count them.
 */
export async function readBillingCosts(
  file: string,
  at: Date,
  currency: string,
  days = BILLING_WINDOW_DAYS,
): Promise<BillingCosts> {
  const end = at.getTime();
  const start = end - days * DAY_MS;
  const sums = new Map<string, { sum: Amount; running: Amount; first: number }>();
  let through = Number.NEGATIVE_INFINITY;
  let earliest = Number.POSITIVE_INFINITY;
  let exportFrom = Number.POSITIVE_INFINITY;
  let exportThrough = Number.NEGATIVE_INFINITY;
  const tally = { counted: 0, otherCurrency: 0, resourceless: 0, outside: 0 };
  const report = await readFocusFile(
    file,
    (record) => {
      if (record.currency !== currency) {
        tally.otherCurrency++;
        return;
      }
      if (record.start < exportFrom) exportFrom = record.start;
      const last = Number.isNaN(record.end) ? record.start + HOUR_MS : record.end;
      if (last > exportThrough) exportThrough = last;
      if (record.start < start || record.start >= end) {
        tally.outside++;
        return;
      }
      const dims = record.dimensions();
      const id = dims.resourceId;
      if (id === null || id === "") {
        tally.resourceless++;
        return;
      }
      tally.counted++;
      const cost = costOf(record);
      if (last > through) through = last;
      if (record.start < earliest) earliest = record.start;
      const running = isRunningUnit(dims.pricingUnit) ? cost : 0n;
      const seen = sums.get(id);
      if (seen === undefined) sums.set(id, { sum: cost, running, first: record.start });
      else {
        seen.sum += cost;
        seen.running += running;
        if (record.start < seen.first) seen.first = record.start;
      }
    },
    { costColumns: ["EffectiveCost"], dimensions: [RESOURCE_COLUMN, PRICING_UNIT_COLUMN] },
  );
  through = Math.min(through, end);
  const costs = new Map<string, BilledCost>();
  let tooRecent = 0;
  for (const [id, { sum, running, first }] of sums) {
    const span = through - Math.max(first, start);
    if (span < MIN_BILLED_HOURS * HOUR_MS) {
      tooRecent++;
      continue;
    }
    // Credits netted against a resource's charges can leave less than nothing: it costs nothing.
    // Rates to a millionth, the month to a cent (half up): charged amounts, not more digits than they hold.
    const per = (paid: Amount, hours: bigint, unit: bigint) => {
      const exact = ((paid > 0n ? paid : 0n) * BigInt(HOUR_MS) * hours) / BigInt(span);
      return ((exact + unit / 2n) / unit) * unit;
    };
    const cost = { hourly: per(running, 1n, MICRO), monthly: per(sum, HOURS_PER_MONTH, CENT) };
    for (const key of rowKeys(id)) if (!costs.has(key) || key === id) costs.set(key, cost);
  }
  return {
    file,
    column: "EffectiveCost",
    currency,
    costs,
    from: tally.counted > 0 ? new Date(Math.max(earliest, start)).toISOString() : null,
    through: tally.counted > 0 ? new Date(through).toISOString() : null,
    exportFrom: Number.isFinite(exportFrom) ? new Date(exportFrom).toISOString() : null,
    exportThrough: Number.isFinite(exportThrough) ? new Date(exportThrough).toISOString() : null,
    ...tally,
    tooRecent,
    report,
  };
}
