import { formatAmount, HOURS_PER_MONTH, parseAmount } from "../../money/exact.js";
import type { Resource } from "../types.js";

const STOPPED = new Set(["stopped", "stopping"]);

/**
 * What a resource costs per month in its current state: all of it while running; a stopped one only
 * what goes on costing (a database's storage — its monthly cost less the running hours); nothing once gone.
 */
export function currentMonthlyCost(r: Resource, goneAt: string | null): string {
  if (goneAt !== null || r.state === "terminated" || r.state === "deleted") return "0";
  if (!STOPPED.has(r.state ?? "")) return formatAmount(monthlyOf(r));
  return stoppedMonthlyCost(r);
}

const monthlyOf = (r: Resource) =>
  r.monthly_cost === undefined || r.monthly_cost === null ? 0n : parseAmount(r.monthly_cost);

/** What a resource goes on costing while stopped: its monthly cost less its running hours (a database's storage). */
export function stoppedMonthlyCost(r: Resource): string {
  const monthly = monthlyOf(r);
  const running =
    r.hourly_cost === undefined || r.hourly_cost === null
      ? monthly
      : parseAmount(r.hourly_cost) * HOURS_PER_MONTH;
  const left = monthly - running;
  return formatAmount(left > 0n ? left : 0n);
}
