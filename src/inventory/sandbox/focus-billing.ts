import { createWriteStream } from "node:fs";
import { dirname } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { FOCUS_1_0_COLUMNS } from "../../budget/focus-columns.js";
import { makeFolders, partialFile } from "../../files.js";
import { formatAmount, parseAmount, times } from "../../money/exact.js";
import type { Resource } from "../types.js";
import { stoppedMonthlyCost } from "./running-cost.js";

/**
 * A FOCUS 1.0 billing file that matches the sandbox estate: one usage row per resource per day it
 * cost money over the `days` before `at` (running instances and databases, volumes, snapshots,
 * load balancers; stopped instances cost nothing for compute). Same columns, quoting, `NULL` and
 * timestamp format as the FinOps Foundation's sample data, so one ingest reads both.
 */
export const FOCUS_COLUMNS: readonly string[] = [
  ...FOCUS_1_0_COLUMNS.slice(0, FOCUS_1_0_COLUMNS.indexOf("ServiceName")),
  "Id", // the FinOps sample's extra, non-FOCUS column, in the sample's position
  ...FOCUS_1_0_COLUMNS.slice(FOCUS_1_0_COLUMNS.indexOf("ServiceName")),
];

const REGION_NAMES: Record<string, string> = {
  "us-east-1": "US East (N. Virginia)",
  "us-west-2": "US West (Oregon)",
  "eu-west-1": "Europe (Ireland)",
};

const SERVICE: Record<string, { category: string; name: string; type: string; unit: string }> = {
  "compute/instance": {
    category: "Compute",
    name: "Amazon Elastic Compute Cloud",
    type: "Instance",
    unit: "Hours",
  },
  "storage/volume": {
    category: "Storage",
    name: "Amazon Elastic Block Store",
    type: "Volume",
    unit: "GB-Mo",
  },
  "storage/snapshot": {
    category: "Storage",
    name: "Amazon Elastic Block Store",
    type: "Snapshot",
    unit: "GB-Mo",
  },
  "database/instance": {
    category: "Databases",
    name: "Amazon Relational Database Service",
    type: "DB Instance",
    unit: "Hours",
  },
  "network/load-balancer": {
    category: "Networking",
    name: "Elastic Load Balancing",
    type: "Load Balancer",
    unit: "Hours",
  },
};

/** A database's storage, billed apart from its hours (and while it is stopped). */
const DATABASE_STORAGE = {
  category: "Databases",
  name: "Amazon Relational Database Service",
  type: "DB Storage",
  unit: "GB-Mo",
};

export const SANDBOX_BILLING_ACCOUNT = { id: "999988887777", name: "costguard-sandbox" };

const DAY = 86_400_000;
const HOURS_PER_DAY = 24;

/**
 * Writes the billing file; returns the number of rows. A file that cannot be written (a full disk) fails
 * with its path named (`path` on the error), and a regular file is written whole or not at all: into a
 * file beside it first, renamed over it once complete (`pending`: left for the caller to rename, with
 * `commit`, or drop, with `discard`, so that the estate and its billing are replaced together).
 */
export async function writeFocusBilling(
  path: string,
  resources: readonly Resource[],
  /** `onProgress`: told every thousand resources (and at the end) how many are written. */
  options: {
    at: Date;
    days: number;
    onProgress?: (resources: number) => void;
    /** Aborted: stop between resources, remove what was written, reject with the signal's reason. */
    signal?: AbortSignal;
  },
): Promise<PendingBilling> {
  makeFolders(dirname(path));
  const partial = partialFile(path);
  let rows = 0;
  const end = Date.UTC(options.at.getUTCFullYear(), options.at.getUTCMonth(), options.at.getUTCDate());
  async function* text(): AsyncGenerator<string> {
    let chunk = `${FOCUS_COLUMNS.map((c) => `"${c}"`).join(",")}\n`;
    let seen = 0;
    for (const r of resources) {
      if (++seen % 1000 === 0) {
        options.signal?.throwIfAborted();
        options.onProgress?.(seen);
      }
      const service = SERVICE[r.type];
      if (!service || r.monthly_cost === undefined || r.monthly_cost === null) continue;
      if (r.type === "compute/instance" && r.state !== "running") continue;
      // A database bills its hours while available and its storage always (a stopped one goes on
      // paying for it): two rows a day, each its unit's price × quantity.
      const charges: [typeof service, string][] = [];
      if (r.type === "database/instance" && r.hourly_cost !== undefined && r.hourly_cost !== null) {
        if (r.state === "available")
          charges.push([service, formatAmount(times(parseAmount(r.hourly_cost), HOURS_PER_DAY))]);
        const storage = stoppedMonthlyCost(r);
        if (parseAmount(storage) > 0n) charges.push([DATABASE_STORAGE, dailyCost(storage)]);
      } else if (r.type !== "database/instance" || r.state === "available")
        charges.push([service, dailyCost(r.monthly_cost)]);
      const created = r.created_at ? Date.parse(r.created_at) : 0;
      const tags = JSON.stringify(r.tags ?? {});
      for (let d = options.days; d >= 1; d--) {
        const start = end - d * DAY;
        if (start < created) continue;
        for (const [what, daily] of charges) {
          rows++;
          chunk += `${row(r, what, daily, start, tags, rows)}\n`;
        }
      }
      if (chunk.length >= CHUNK) {
        yield chunk;
        chunk = "";
      }
    }
    if (chunk) yield chunk;
  }
  try {
    await pipeline(Readable.from(text()), createWriteStream(partial.target));
  } catch (err) {
    partial.discard();
    if (options.signal?.aborted) throw options.signal.reason;
    throw Object.assign(err as Error, { path });
  }
  options.onProgress?.(resources.length);
  return { path, rows, commit: partial.replace, discard: partial.discard };
}

/** A billing file written in full, not yet in its place. */
export interface PendingBilling {
  path: string;
  rows: number;
  /** Puts the file in its place, over the one there before. */
  commit(): void;
  /** Removes what was written; the file there before stays. */
  discard(): void;
}

const CHUNK = 1 << 16;

function dailyCost(monthly: number | string): string {
  // monthly × 24 / 730, rounded at the pico-dollar.
  const perMonth = parseAmount(monthly, "monthly_cost");
  return formatAmount(times(perMonth, HOURS_PER_DAY) / 730n);
}

function row(
  r: Resource,
  service: { category: string; name: string; type: string; unit: string },
  daily: string,
  start: number,
  tags: string,
  n: number,
): string {
  const chargeStart = new Date(start);
  const periodStart = Date.UTC(chargeStart.getUTCFullYear(), chargeStart.getUTCMonth(), 1);
  const periodEnd = Date.UTC(chargeStart.getUTCFullYear(), chargeStart.getUTCMonth() + 1, 1);
  const sku = (r.specs?.instance_type as string | undefined) ?? (r.specs?.volume_sku as string | undefined);
  const region = r.region ?? "us-east-1";
  const hourly = r.hourly_cost === undefined ? null : String(r.hourly_cost);
  const values: Record<(typeof FOCUS_1_0_COLUMNS)[number] | "Id", string | null> = {
    AvailabilityZone: q(`${region}a`),
    BilledCost: daily,
    BillingAccountId: q(SANDBOX_BILLING_ACCOUNT.id),
    BillingAccountName: q(SANDBOX_BILLING_ACCOUNT.name),
    BillingCurrency: q(r.currency ?? "USD"),
    BillingPeriodEnd: q(timestamp(periodEnd)),
    BillingPeriodStart: q(timestamp(periodStart)),
    ChargeCategory: q("Usage"),
    ChargeClass: null,
    ChargeDescription: q(`${service.name} ${sku ?? service.type} usage (costguard sandbox)`),
    ChargeFrequency: q("Usage-Based"),
    ChargePeriodEnd: q(timestamp(start + DAY)),
    ChargePeriodStart: q(timestamp(start)),
    CommitmentDiscountCategory: null,
    CommitmentDiscountId: null,
    CommitmentDiscountName: null,
    CommitmentDiscountStatus: null,
    CommitmentDiscountType: null,
    ConsumedQuantity: service.unit === "Hours" ? "24" : null,
    ConsumedUnit: service.unit === "Hours" ? q("Hours") : null,
    ContractedCost: daily,
    ContractedUnitPrice: service.unit === "Hours" ? hourly : null,
    EffectiveCost: daily,
    InvoiceIssuerName: q("Amazon Web Services, Inc."),
    ListCost: daily,
    ListUnitPrice: service.unit === "Hours" ? hourly : null,
    PricingCategory: q("Standard"),
    PricingQuantity: service.unit === "Hours" ? "24" : null,
    PricingUnit: q(service.unit),
    ProviderName: q("AWS"),
    PublisherName: q("Amazon Web Services, Inc."),
    RegionId: q(region),
    RegionName: q(REGION_NAMES[region] ?? region),
    ResourceId: q(r.id),
    ResourceName: r.name === undefined ? null : q(r.name),
    ResourceType: q(service.type),
    ServiceCategory: q(service.category),
    Id: String(n),
    ServiceName: q(service.name),
    SkuId: sku === undefined ? null : q(sku),
    SkuPriceId: null,
    SubAccountId: r.account === undefined ? null : q(r.account),
    SubAccountName: r.account === undefined ? null : q(`sandbox-${r.account}`),
    Tags: q(tags),
  };
  return FOCUS_COLUMNS.map((c) => values[c as keyof typeof values] ?? "NULL").join(",");
}

function q(text: string): string {
  return `"${text.replace(/"/g, '""')}"`;
}

function timestamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}
