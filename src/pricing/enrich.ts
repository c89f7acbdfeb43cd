import type { DecisionAnnotator, RequestEnricher } from "../decide/decider.js";
import type { Decision, ResourceRequest, ResourceSpecs } from "../engine/types.js";
import { withField } from "../objects.js";
import type { PriceBook } from "./book.js";
import { type CostEstimate, estimateCost } from "./estimate.js";
import { isDecimalText } from "./money.js";

/**
 * The request field the price-book enricher writes its estimate to, and `maxMonthlyCost` reads:
 * `cost.monthly` is an exact decimal string (`"560.64"`), `cost.status` is `known` or `unknown`.
 */
export const COST_FIELD = "cost";

const MAX_CACHED_ESTIMATES = 10_000;

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * Fills what the price book knows about a request: from `specs.instance_type` the `vcpus`,
 * `memory_gb`, `instance_family` (the guide's category names) and `gpus`; from `specs.volume_sku` the
 * guide's volume class in `volume_type`; and the cost estimate in `cost`. Fields the request already
 * carries are never overwritten.
 */
export function createPriceBookEnricher(book: PriceBook): RequestEnricher {
  // Gates see the same few shapes over and over (one instance type in one region): the estimate is a
  // pure function of the request's type, provider, region, specs and unknown fields, so it is computed
  // once per distinct shape. Bounded: past the limit the cache starts over.
  const estimates = new Map<string, CostEstimate>();
  const estimate = (request: ResourceRequest): CostEstimate => {
    const key = JSON.stringify([
      request.type,
      request.provider,
      request.region,
      request.specs,
      request.unknown_fields,
    ]);
    let found = estimates.get(key);
    if (!found) {
      found = deepFreeze(estimateCost(book, request));
      if (estimates.size >= MAX_CACHED_ESTIMATES) estimates.clear();
      estimates.set(key, found);
    }
    return found;
  };
  const specsCache = new Map<string, ReturnType<PriceBook["specs"]>>();
  const specsOf = (service: "compute" | "database", type: string, provider: string | undefined) => {
    const key = `${service}\0${type}\0${provider ?? ""}`;
    if (specsCache.has(key)) return specsCache.get(key);
    const entry = book.specs(service, type, provider) ?? book.specs(service, type);
    if (specsCache.size >= MAX_CACHED_ESTIMATES) specsCache.clear();
    specsCache.set(key, entry);
    return entry;
  };
  return {
    enrich(request) {
      const specs = request.specs;
      let filled: ResourceSpecs | undefined;
      if (specs) {
        const type = specs.instance_type;
        if (typeof type === "string" && type !== "") {
          const service = request.type.startsWith("database/") ? "database" : "compute";
          const provider = typeof request.provider === "string" ? request.provider : undefined;
          const entry = specsOf(service, type, provider);
          if (entry) {
            filled = { ...specs };
            if (filled.vcpus === undefined && entry.vcpus !== undefined) filled.vcpus = entry.vcpus;
            if (filled.memory_gb === undefined && entry.memory_gib !== undefined)
              filled.memory_gb = entry.memory_gib;
            if (filled.instance_family === undefined && entry.category !== "")
              filled.instance_family = entry.category;
            if (filled.gpus === undefined && entry.gpus !== undefined) filled.gpus = entry.gpus;
          }
        }
        const sku = specs.volume_sku;
        if (typeof sku === "string" && specs.volume_type === undefined) {
          const entry = book.specs("volume", sku);
          if (entry && entry.category !== "") {
            filled ??= { ...specs };
            filled.volume_type = entry.category;
          }
        }
      }
      // `specs` exists on the request, so replacing it keeps V8's fast object-spread path.
      const enriched: ResourceRequest = filled ? { ...request, specs: filled } : request;
      return enriched[COST_FIELD] === undefined
        ? withField(enriched, COST_FIELD, estimate(enriched))
        : enriched;
    },
  };
}

/** Puts the request's cost estimate on the decision as `estimated_monthly_cost`. */
export function createCostAnnotator(book: PriceBook): DecisionAnnotator {
  return {
    annotate(request: ResourceRequest, decision: Decision): Decision {
      return withField(decision, "estimated_monthly_cost", costOf(book, request));
    },
  };
}

/** The estimate a request carries (from the enricher, or supplied by the caller), else a fresh one. */
export function costOf(book: PriceBook, request: ResourceRequest): CostEstimate {
  const carried = request[COST_FIELD];
  if (isEstimate(carried)) return carried;
  if (carried !== null && typeof carried === "object") {
    const c = carried as { monthly?: unknown; currency?: unknown };
    const monthly = typeof c.monthly === "number" ? String(c.monthly) : c.monthly;
    if (typeof monthly === "string" && isDecimalText(monthly)) {
      return {
        status: "known",
        currency: typeof c.currency === "string" ? c.currency : "USD",
        monthly,
        hours_per_month: 730,
        method: "supplied by the request (cost.monthly)",
        components: [],
        assumptions: [],
      };
    }
  }
  return estimateCost(book, request);
}

function isEstimate(v: unknown): v is CostEstimate {
  return (
    v !== null &&
    typeof v === "object" &&
    ((v as CostEstimate).status === "known" || (v as CostEstimate).status === "unknown") &&
    Array.isArray((v as CostEstimate).components)
  );
}
