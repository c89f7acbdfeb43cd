import { InputError } from "../errors.js";
import type { Resource } from "../inventory/types.js";
import {
  type Amount,
  HOURS_PER_MONTH,
  hourlyFromMonthly,
  parseAmount as parseExact,
} from "../money/exact.js";
import { type BilledCost, billedCost } from "./billing-costs.js";
import { type PriceLookup, REFERENCE } from "./prices.js";

export interface ResourceCost {
  hourly: Amount;
  monthly: Amount;
  /**
   * True when `hourly` is only `monthly` ÷ 730 rounded (the figure given was a month's): a month of
   * running is then `monthly` itself, exactly, not `hourly` × 730 (100 would come back 100.0000000001).
   */
  fromMonthly?: true;
  /** True when only a database's instance hours are known, its storage not (see `instanceHoursCost`). */
  instanceHoursOnly?: true;
  /** Where the figure came from, for the finding's basis. */
  from: "resource" | "billing export" | "price book" | "price book (us-east-1 rates)";
}

/**
 * What a resource costs while it runs: what a billing export says it was charged (`scan --billing`),
 * else its own `monthly_cost` / `hourly_cost` (monthly = hourly × 730), else the price book's estimate
 * for it (its region, else us-east-1 rates). Undefined when unknown.
 */
export function resourceCost(
  r: Resource,
  prices: PriceLookup | undefined,
  memo?: { amounts: Map<string | number, Amount> },
  billed?: ReadonlyMap<string, BilledCost>,
): ResourceCost | undefined {
  if (billed !== undefined) {
    const charged = billedCost(billed, r);
    if (charged !== undefined) return { ...charged, from: "billing export" };
  }
  const where = `resource ${r.id}`;
  // Estates repeat the same few hundred prices: parse each once.
  const parseAmount = (value: string | number, what: string): Amount => {
    let a = memo?.amounts.get(value);
    if (a === undefined) {
      a = parseExact(value, what);
      // A running cost below zero would make waste look like a saving to lose (credits belong to billing).
      if (a < 0n) throw new InputError(`${what}: \`${value}\` is negative; a running cost is zero or more`);
      if (memo && memo.amounts.size < 8192) memo.amounts.set(value, a);
    }
    return a;
  };
  if (r.hourly_cost !== undefined && r.hourly_cost !== null) {
    const hourly = parseAmount(r.hourly_cost, `${where}: hourly_cost`);
    const monthly =
      r.monthly_cost !== undefined && r.monthly_cost !== null
        ? parseAmount(r.monthly_cost, `${where}: monthly_cost`)
        : hourly * HOURS_PER_MONTH;
    return { hourly, monthly, from: "resource" };
  }
  if (r.monthly_cost !== undefined && r.monthly_cost !== null) {
    const monthly = parseAmount(r.monthly_cost, `${where}: monthly_cost`);
    return { hourly: hourlyFromMonthly(monthly), monthly, from: "resource", fromMonthly: true };
  }
  if (!prices) return undefined;
  // The price book for the resource's region; else the reference region's rates, said so.
  let e = prices.estimate(r);
  let from: ResourceCost["from"] = "price book";
  if (!e && r.region !== undefined && r.region !== REFERENCE.region) {
    e = prices.estimate({ ...r, region: REFERENCE.region });
    from = "price book (us-east-1 rates)";
  }
  if (!e) return undefined;
  return e.hourly !== undefined
    ? { hourly: e.hourly, monthly: e.monthly, from }
    : { hourly: hourlyFromMonthly(e.monthly), monthly: e.monthly, from, fromMonthly: true };
}

/**
 * What a database costs while it runs when its whole cost is unknown for want of its storage's price
 * (no `specs.storage_type`, or none the book has): the book's price of its instance hours alone, all
 * that stopping it saves (its storage goes on costing). Undefined for anything else. Called only for
 * an idle database that `resourceCost` could not price: no cost of its own, no charges.
 */
export function instanceHoursCost(
  r: Resource,
  prices: PriceLookup | undefined,
  memo?: { amounts: Map<string | number, Amount> },
): ResourceCost | undefined {
  if (r.type !== "database/instance" || !prices) return undefined;
  const c = resourceCost({ ...r, specs: { ...r.specs, storage_gb: 0 } }, prices, memo);
  return (
    c && { hourly: c.hourly, monthly: c.hourly * HOURS_PER_MONTH, from: c.from, instanceHoursOnly: true }
  );
}
