import { createDecider, type Decider, type RequestEnricher } from "../decide/decider.js";
import type { CompiledPolicySet } from "../engine/compile.js";
import type { CostEstimate } from "../engine/types.js";
import type { Resource } from "../inventory/types.js";
import { formatAmount, HOURS_PER_MONTH, parseAmount } from "../money/exact.js";
import { withField } from "../objects.js";
import type { PriceBook } from "../pricing/book.js";
import {
  BOOK_SPEC_FIELDS,
  COST_FIELD,
  createPriceBookEnricher,
  createSpecsEnricher,
} from "../pricing/enrich.js";
import { type BilledCost, billedCost } from "./billing-costs.js";

/**
 * The decider a scan uses: the gates' decider over the same compiled policies, so a resource gets the
 * decision a request for it would. Specs the policies read and a resource lacks (`vcpus`, `memory_gb`,
 * `instance_family`, `gpus` from `specs.instance_type`; `volume_type` from `specs.volume_sku`) are
 * filled from the price book, as the gates fill them: an inventory that names only an instance type is
 * judged on its shape. When a policy reads the estimated cost (`maxMonthlyCost`), resources are priced
 * first — by their charges in a billing export when the scan reads one, else by their own `hourly_cost`
 * / `monthly_cost` when they carry one (what they really cost), else by the price book, exactly as the gates price a request. Without such a policy no pricing runs
 * (a scan of millions stays cheap), and a resource that carries the specs read passes untouched.
 */
export function createScanDecider(
  policySet: CompiledPolicySet,
  book: PriceBook | undefined,
  /** Running costs from a billing export (`scan --billing`): what a resource was charged comes first. */
  billed?: ReadonlyMap<string, BilledCost>,
): Decider {
  if (!book) return createDecider({ policySet });
  const fields = policySet.rules.flatMap((r) => r.node.checks.map((c) => c.field));
  if (fields.some((f) => f.startsWith(`${COST_FIELD}.`)))
    return createDecider({
      policySet,
      enrichers: [
        ...(billed ? [billedCostEnricher(billed)] : []),
        ownCostEnricher,
        createPriceBookEnricher(book),
      ],
    });
  const specsRead = new Set(
    BOOK_SPEC_FIELDS.filter((f) => fields.some((field) => field === "specs" || field === `specs.${f}`)),
  );
  if (specsRead.size === 0) return createDecider({ policySet });
  return createDecider({ policySet, enrichers: [createSpecsEnricher(book, specsRead)] });
}

/** A resource's cost as its charges in the billing export say: everything charged to it, a month. */
function billedCostEnricher(billed: ReadonlyMap<string, BilledCost>): RequestEnricher {
  return {
    enrich(request) {
      if (request[COST_FIELD] !== undefined || typeof request.id !== "string") return request;
      const charged = billedCost(billed, request as unknown as Resource);
      if (charged === undefined) return request;
      const cost: CostEstimate = {
        status: "known",
        currency: "USD",
        monthly: formatAmount(charged.monthly),
        hourly: formatAmount(charged.monthly / HOURS_PER_MONTH),
        hours_per_month: 730,
        method: "its charges in the billing export (EffectiveCost)",
        components: [],
        assumptions: [],
      };
      return withField(request, COST_FIELD, cost);
    },
  };
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
