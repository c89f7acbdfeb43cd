import { InputError } from "../errors.js";
import type { Resource } from "../inventory/types.js";
import { type Amount, parseAmount } from "../money/exact.js";
import type { BookEntry, PriceBook } from "../pricing/book.js";
import { estimateCost } from "../pricing/estimate.js";
import { loadPriceBook } from "../pricing/load.js";

/** One instance type as the price book knows it. */
export interface InstanceShape {
  instance_type: string;
  /** The family series the type belongs to (`m5` for `m5.xlarge`): resize targets stay in it. */
  series: string;
  /** The guide's instance family vocabulary: general-purpose, compute-optimized, gpu, ... */
  category: string;
  vcpus: number;
  memory_gb: number;
  gpus: number;
  /** Exact hourly on-demand price in `currency`. */
  hourly: Amount;
  hourly_text: string;
}

/**
 * What the scanner and the sandbox need from the price book: instance shapes for resize targets,
 * and a resource's cost when it carries none of its own.
 */
export interface PriceLookup {
  readonly currency: string;
  /** An EC2 instance type in the reference region (on-demand Linux). */
  instanceType(type: string): InstanceShape | undefined;
  /** Every type of a series in the reference region, cheapest first. */
  seriesTypes(series: string): readonly InstanceShape[];
  /** An RDS instance class's hourly price for an engine (mysql, postgres) in the reference region. */
  databaseHourly(dbClass: string, engine: string): Amount | undefined;
  /**
   * Whether the book prices an RDS class in the reference region, for any engine: RDS offers fewer
   * sizes than EC2 (no db.r6g.medium), so a resize target must be a class the book knows.
   */
  databaseClassKnown(dbClass: string): boolean;
  /** The price book's estimate for a resource (its region, or the provider's default); undefined when unknown. */
  estimate(resource: Resource): { hourly: Amount | undefined; monthly: Amount } | undefined;
}

/** The reference region whose on-demand prices size resize targets (the book's AWS region). */
export const REFERENCE = { provider: "aws", region: "us-east-1" } as const;

/** The currency scans, cycles and the sandbox price in: the embedded book's. */
const CURRENCY = "USD";

/**
 * A price in another currency than the lookup's, refused: savings are summed in one currency, and
 * costguard has no exchange rates (a --price-book in EUR would otherwise be counted as dollars).
 */
function otherCurrency(currency: string, what: string): InputError {
  return new InputError(
    `${what} is priced in ${currency}, and scans and remediation count savings in ${CURRENCY}: costguard converts no currency, so give the price book's prices in ${CURRENCY}`,
  );
}

export function priceLookupFromBook(book: PriceBook): PriceLookup {
  const shapes = new Map<string, InstanceShape | null>();
  let bySeries: Map<string, InstanceShape[]> | undefined;
  let dbClasses: Set<string> | undefined;

  const toShape = (e: BookEntry): InstanceShape | undefined => {
    if (e.price === undefined || e.unit !== "hour") return undefined;
    if (e.currency !== CURRENCY) throw otherCurrency(e.currency, `price book ${e.origin}: ${e.sku}`);
    if (e.vcpus === undefined) return undefined;
    const hourly = parseAmount(e.price, `price book ${e.origin}`);
    return {
      instance_type: e.sku,
      series: seriesOf(e.sku),
      category: e.category,
      vcpus: e.vcpus,
      memory_gb: e.memory_gib ?? 0,
      gpus: e.gpus ?? 0,
      hourly,
      hourly_text: e.price,
    };
  };

  return {
    currency: CURRENCY,
    instanceType(type) {
      let shape = shapes.get(type);
      if (shape === undefined) {
        const m = book.price({ service: "compute", sku: type, ...REFERENCE });
        shape = ("entry" in m ? toShape(m.entry) : undefined) ?? null;
        shapes.set(type, shape);
      }
      return shape ?? undefined;
    },
    seriesTypes(series) {
      if (!bySeries) {
        bySeries = new Map();
        for (const e of book.entries) {
          if (e.service !== "compute" || e.provider !== REFERENCE.provider || e.os !== "") continue;
          if (e.region !== REFERENCE.region) continue;
          const shape = this.instanceType(e.sku);
          if (!shape) continue;
          const list = bySeries.get(shape.series) ?? [];
          list.push(shape);
          bySeries.set(shape.series, list);
        }
        for (const list of bySeries.values())
          list.sort((a, b) => (a.hourly < b.hourly ? -1 : a.hourly > b.hourly ? 1 : a.vcpus - b.vcpus));
      }
      return bySeries.get(series) ?? [];
    },
    databaseHourly(dbClass, engine) {
      const m = book.price({ service: "database", sku: dbClass, engine, ...REFERENCE });
      if (!("entry" in m) || m.entry.price === undefined) return undefined;
      if (m.entry.currency !== CURRENCY)
        throw otherCurrency(m.entry.currency, `price book ${m.entry.origin}: ${m.entry.sku}`);
      return parseAmount(m.entry.price);
    },
    databaseClassKnown(dbClass) {
      if (!dbClasses) {
        dbClasses = new Set();
        for (const e of book.entries)
          if (
            e.service === "database" &&
            e.provider === REFERENCE.provider &&
            e.region === REFERENCE.region &&
            e.unit === "hour" &&
            e.price !== undefined
          )
            dbClasses.add(e.sku.toLowerCase());
      }
      return dbClasses.has(dbClass.toLowerCase());
    },
    estimate(resource) {
      const e = estimateCost(book, resource);
      if (e.status !== "known" || e.monthly === undefined) return undefined;
      if (e.currency !== undefined && e.currency !== CURRENCY) {
        const entries = e.components.map((c) => c.entry).join(", ");
        throw otherCurrency(e.currency, `resource ${resource.id}: its price book estimate (${entries})`);
      }
      return {
        hourly: e.hourly === undefined ? undefined : parseAmount(e.hourly),
        monthly: parseAmount(e.monthly),
      };
    },
  };
}

/** The embedded price book (data/pricing) plus the user's tables, as a lookup. */
export function loadPrices(userTables: readonly string[] = []): PriceLookup {
  return priceLookupFromBook(loadPriceBook(userTables));
}

function seriesOf(type: string): string {
  const dot = type.indexOf(".");
  return dot < 0 ? type : type.slice(0, dot);
}
