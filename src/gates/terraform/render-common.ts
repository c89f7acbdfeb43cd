import type { CostEstimate } from "../../engine/types.js";
import { formatDelta, formatMoney } from "../../pricing/money.js";
import type { PlanReport, PlanResourceResult } from "./gate.js";

/** A cost side for people: an amount, `-` for a side that does not exist, or `unknown`. */
export function costCell(c: CostEstimate | null): string {
  if (c === null) return "-";
  if (c.status !== "known") return "unknown";
  return formatMoney(c.monthly!, c.currency ?? "USD");
}

export function deltaCell(r: PlanResourceResult): string {
  if (r.monthly_delta === null) return "unknown";
  const currency = r.monthly_cost_after?.currency ?? r.monthly_cost_before?.currency ?? "USD";
  return formatDelta(r.monthly_delta, currency);
}

/** Why a cost is unknown, for the lines under the table. */
export function unknownReasons(r: PlanResourceResult): string[] {
  const out: string[] = [];
  if (r.monthly_cost_before?.status === "unknown") out.push(`before: ${r.monthly_cost_before.reason}`);
  if (r.monthly_cost_after?.status === "unknown") out.push(`after: ${r.monthly_cost_after.reason}`);
  return out;
}

export function decisionText(r: PlanResourceResult): string {
  return r.decision === null ? "-" : r.decision;
}

/** The summary's totals in its one currency, or undefined when the costs are in several (not added up). */
export function planTotals(
  s: PlanReport["summary"],
): { before: string; after: string; delta: string } | undefined {
  const { monthly_before: before, monthly_after: after, monthly_delta: delta } = s;
  return before === null || after === null || delta === null ? undefined : { before, after, delta };
}
