/** The price book's data model: what one line of a price table says. */

/**
 * What an entry prices. `compute` and `database` are per hour and carry specs; `volume` and
 * `database-storage` per GB-month (or per fixed-size tier per month); the `-iops` / `-throughput`
 * services are per provisioned unit-month beyond an included amount.
 */
export const SERVICES = [
  "compute",
  "database",
  "volume",
  "volume-iops",
  "volume-throughput",
  "database-storage",
  "database-iops",
] as const;
export type Service = (typeof SERVICES)[number];

export const UNITS = ["hour", "gb-month", "month", "iops-month", "mibps-month"] as const;
export type PriceUnit = (typeof UNITS)[number];

/** The instance categories the guide's policies name in allowed/deniedInstanceFamilies. */
export const CATEGORIES = [
  "general-purpose",
  "compute-optimized",
  "memory-optimized",
  "high-memory",
  "gpu",
  "accelerated",
  "storage-optimized",
] as const;

export interface PriceEntry {
  provider: string;
  service: Service;
  /** Instance type, machine type, VM size, DB instance class or volume/disk type, as the cloud spells it. */
  sku: string;
  /** A region name, or `*` for an entry that applies in every region. */
  region: string;
  /** compute: `linux` or `windows` (empty means linux). */
  os: string;
  /** database: engine (`mysql`, `postgres`, ...); empty for other services. */
  engine: string;
  /** compute/database: one of CATEGORIES; volume: the guide's volume class (standard, ssd, hdd, provisioned-iops). */
  category: string;
  vcpus?: number;
  memory_gib?: number;
  gpus?: number;
  unit: PriceUnit;
  /** Exact decimal text; undefined where no sourceable price is known (specs only). */
  price?: string;
  /** For per-unit add-ons: units included before the price applies (gp3: 3000 IOPS). */
  included?: string;
  /** For tiered disks priced per month: the largest size in GB the tier covers. */
  max_gb?: number;
  currency: string;
  /** A source id declared in the file (`# source ID: text`) or free text. */
  source: string;
  /** Where the entry was read: `embedded:aws-ebs.csv:12` or the user's file and line. */
  origin: string;
}

export interface PriceSource {
  id: string;
  text: string;
}

/** Keys that make two entries "the same line": a later one with the same key overrides. */
export function entryKey(
  e: Pick<PriceEntry, "service" | "sku" | "region" | "os" | "engine" | "max_gb">,
): string {
  return `${e.service}|${e.sku.toLowerCase()}|${e.region.toLowerCase()}|${e.os}|${e.engine}|${e.max_gb ?? ""}`;
}

/** A database engine as the book keys it: lower case, `postgresql` (Terraform's, RDS's API) as `postgres`. */
export function normaliseEngine(engine: string | undefined): string | undefined {
  if (!engine) return undefined;
  const e = engine.toLowerCase();
  return e === "postgresql" ? "postgres" : e;
}
