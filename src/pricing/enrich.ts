import type { DecisionAnnotator, RequestEnricher } from "../decide/decider.js";
import type { Decision, ResourceRequest, ResourceSpecs } from "../engine/types.js";
import { withField } from "../objects.js";
import type { PriceBook } from "./book.js";
import { type CostEstimate, estimateCost } from "./estimate.js";
import { isDecimalText, numberAmount } from "./money.js";

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

/** The specs the price book fills in when a request lacks them. */
export const BOOK_SPEC_FIELDS = ["vcpus", "memory_gb", "instance_family", "gpus", "volume_type"] as const;
export type BookSpecField = (typeof BOOK_SPEC_FIELDS)[number];

const EVERY_BOOK_SPEC: ReadonlySet<BookSpecField> = new Set(BOOK_SPEC_FIELDS);
/** The specs an instance type gives. */
const SHAPE_FIELDS = ["vcpus", "memory_gb", "instance_family", "gpus"] as const;

/**
 * Fills the specs the price book knows and a request lacks: from `specs.instance_type` the `vcpus`,
 * `memory_gb`, `instance_family` (the guide's category names) and `gpus`; from `specs.volume_sku` the
 * guide's volume class in `volume_type`. Fields the request already carries are never overwritten.
 * With `fields`, only those are filled (a scan fills what its policies read, so a resource that
 * carries them is passed on untouched); a request with nothing to fill is returned as it is.
 */
export function createSpecsEnricher(
  book: PriceBook,
  fields: ReadonlySet<BookSpecField> = EVERY_BOOK_SPEC,
): RequestEnricher {
  const shapeFields = SHAPE_FIELDS.filter((f) => fields.has(f));
  const volumeClass = fields.has("volume_type");
  const cache = new Map<string, ReturnType<PriceBook["specs"]>>();
  const specsOf = (
    service: "compute" | "database" | "volume",
    type: string,
    provider: string | undefined,
    region: string | undefined,
  ) => {
    const key = `${service}\0${type}\0${provider ?? ""}\0${region ?? ""}`;
    if (cache.has(key)) return cache.get(key);
    const entry = book.specs(service, type, provider, region) ?? book.specs(service, type, undefined, region);
    if (cache.size >= MAX_CACHED_ESTIMATES) cache.clear();
    cache.set(key, entry);
    return entry;
  };
  return {
    enrich(request) {
      const specs = request.specs;
      if (!specs) return request;
      let filled: ResourceSpecs | undefined;
      const provider = typeof request.provider === "string" ? request.provider : undefined;
      // The book's entries for the request's region say what a type is there (docs/pricing.md).
      const region = typeof request.region === "string" && request.region !== "" ? request.region : undefined;
      const type = specs.instance_type;
      if (typeof type === "string" && type !== "" && shapeFields.some((f) => specs[f] === undefined)) {
        const service = request.type.startsWith("database/") ? "database" : "compute";
        const entry = specsOf(service, type, provider, region);
        if (entry) {
          const from: Record<(typeof SHAPE_FIELDS)[number], string | number | undefined> = {
            vcpus: entry.vcpus,
            memory_gb: entry.memory_gib,
            instance_family: entry.category === "" ? undefined : entry.category,
            gpus: entry.gpus,
          };
          for (const f of shapeFields) {
            if (specs[f] !== undefined || from[f] === undefined) continue;
            filled ??= { ...specs };
            (filled as Record<string, unknown>)[f] = from[f];
          }
        }
      }
      const sku = specs.volume_sku;
      if (volumeClass && typeof sku === "string" && specs.volume_type === undefined) {
        const entry = specsOf("volume", sku, undefined, region);
        if (entry && entry.category !== "") {
          filled ??= { ...specs };
          filled.volume_type = entry.category;
        }
      }
      // `specs` exists on the request, so replacing it keeps V8's fast object-spread path.
      return filled ? { ...request, specs: filled } : request;
    },
  };
}

/**
 * Fills what the price book knows about a request: its specs (`createSpecsEnricher`) and the cost
 * estimate in `cost`. Fields the request already carries are never overwritten.
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
  const specs = createSpecsEnricher(book);
  return {
    enrich(request) {
      const enriched = specs.enrich(request);
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
      // The estimate is the book cache's, frozen, shared by the decisions for the same request.
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
    const monthly =
      typeof c.monthly === "number" && Number.isFinite(c.monthly) ? numberAmount(c.monthly) : c.monthly;
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
