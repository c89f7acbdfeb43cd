import { createDecider, type Decider, type RequestEnricher } from "../decide/decider.js";
import type { CompiledPolicySet } from "../engine/compile.js";
import type { CostEstimate } from "../engine/types.js";
import { formatAmount, HOURS_PER_MONTH, parseAmount } from "../money/exact.js";
import { withField } from "../objects.js";
import type { PriceBook } from "../pricing/book.js";
import { COST_FIELD, createPriceBookEnricher } from "../pricing/enrich.js";

/**
 * The decider a scan uses: the gates' decider over the same compiled policies. When a policy reads
 * the estimated cost (`maxMonthlyCost`), resources are priced first — by their own `hourly_cost` /
 * `monthly_cost` when they carry one (what they really cost), else by the price book, exactly as the
 * gates price a request. Without such a policy no pricing runs (a scan of millions stays cheap).
 */
export function createScanDecider(policySet: CompiledPolicySet, book: PriceBook | undefined): Decider {
  const readsCost = policySet.rules.some((r) =>
    r.node.checks.some((c) => c.field.startsWith(`${COST_FIELD}.`)),
  );
  if (!readsCost || !book) return createDecider({ policySet });
  return createDecider({ policySet, enrichers: [ownCostEnricher, createPriceBookEnricher(book)] });
}

const ownCostEnricher: RequestEnricher = {
  enrich(request) {
    if (request[COST_FIELD] !== undefined) return request;
    const hourly = request.hourly_cost;
    const monthly = request.monthly_cost;
    if (
      typeof hourly !== "string" &&
      typeof hourly !== "number" &&
      typeof monthly !== "string" &&
      typeof monthly !== "number"
    )
      return request;
    const h = hourly === undefined ? undefined : parseAmount(hourly as string | number, "hourly_cost");
    const m =
      monthly === undefined
        ? h === undefined
          ? 0n
          : h * HOURS_PER_MONTH
        : parseAmount(monthly as string | number, "monthly_cost");
    const cost: CostEstimate = {
      status: "known",
      currency: typeof request.currency === "string" ? request.currency : "USD",
      monthly: formatAmount(m),
      hours_per_month: 730,
      method: "the resource's own cost",
      components: [],
      assumptions: [],
    };
    if (h !== undefined) cost.hourly = formatAmount(h);
    return withField(request, COST_FIELD, cost);
  },
};
