import type { Resource } from "../inventory/types.js";
import { type Amount, HOURS_PER_MONTH, hourlyFromMonthly, parseAmount } from "../money/exact.js";
import type { PriceLookup } from "./prices.js";

export interface ResourceCost {
  hourly: Amount;
  monthly: Amount;
  /** Where the figure came from, for the finding's basis. */
  from: "resource" | "price table";
}

/**
 * What a resource costs while it runs: its own `monthly_cost` / `hourly_cost` (monthly = hourly × 730),
 * else the price table's on-demand rate for its instance type. Undefined when nothing is known.
 */
export function resourceCost(r: Resource, prices: PriceLookup | undefined): ResourceCost | undefined {
  const where = `resource ${r.id}`;
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
    return { hourly: hourlyFromMonthly(monthly), monthly, from: "resource" };
  }
  const type = r.specs?.instance_type;
  if (typeof type === "string" && prices) {
    const shape = prices.instanceType(type);
    if (shape) return { hourly: shape.hourly, monthly: shape.hourly * HOURS_PER_MONTH, from: "price table" };
  }
  return undefined;
}
