import { misplacedSpec } from "../engine/request.js";
import type { CostComponent, CostEstimate, ResourceRequest } from "../engine/types.js";
import { type BookEntry, normaliseOs, type PriceBook, type PriceMatch, sourceOf } from "./book.js";
import { compare, HOURS_PER_MONTH, monthlyFromHourly, mul, sub, sum } from "./money.js";
import { normaliseEngine } from "./types.js";

export type { CostComponent, CostEstimate };

const HOURS = Number(HOURS_PER_MONTH);

export function unknownCost(reason: string, assumptions: string[] = []): CostEstimate {
  return {
    status: "unknown",
    hours_per_month: HOURS,
    method: "unknown",
    components: [],
    assumptions,
    reason,
  };
}

class Builder {
  readonly components: CostComponent[] = [];
  readonly assumptions: string[] = [];
  readonly currencies = new Set<string>();
  constructor(readonly book: PriceBook) {}

  entryLabel(e: BookEntry): string {
    const parts = [e.provider, e.service, e.sku, e.region === "*" ? "any region" : e.region];
    if (e.os) parts.push(e.os);
    if (e.engine) parts.push(e.engine);
    return `${parts.join(" ")} (${e.origin})`;
  }

  noteRegion(m: PriceMatch): void {
    this.currencies.add(m.entry.currency);
    if (m.assumedRegion) {
      const note = `region ${m.assumedRegion} assumed: the request names none`;
      if (!this.assumptions.includes(note)) this.assumptions.push(note);
    }
  }

  hourly(name: string, m: PriceMatch, quantity = "1"): void {
    this.noteRegion(m);
    const hourly = mul(m.entry.price!, quantity);
    this.components.push({
      name,
      quantity,
      unit: "hour",
      unit_price: m.entry.price!,
      hourly,
      monthly: monthlyFromHourly(hourly),
      entry: this.entryLabel(m.entry),
      source: sourceOf(m.entry, this.book.sources),
    });
  }

  monthly(name: string, m: PriceMatch, quantity: string): void {
    this.noteRegion(m);
    this.components.push({
      name,
      quantity,
      unit: m.entry.unit,
      unit_price: m.entry.price!,
      monthly: mul(m.entry.price!, quantity),
      entry: this.entryLabel(m.entry),
      source: sourceOf(m.entry, this.book.sources),
    });
  }

  finish(): CostEstimate {
    const currencies = [...this.currencies];
    if (currencies.length > 1)
      return unknownCost(`components are priced in different currencies (${currencies.join(", ")})`);
    const hourlyParts = this.components.filter((c) => c.hourly !== undefined).map((c) => c.hourly!);
    const monthly = sum(this.components.map((c) => c.monthly));
    const estimate: CostEstimate = {
      status: "known",
      currency: currencies[0] ?? "USD",
      monthly,
      hours_per_month: HOURS,
      method: this.components.map((c) => describe(c, currencies[0] ?? "USD")).join("; "),
      components: this.components,
      assumptions: this.assumptions,
    };
    if (hourlyParts.length > 0) estimate.hourly = sum(hourlyParts);
    return estimate;
  }
}

function describe(c: CostComponent, currency: string): string {
  if (c.unit === "hour") {
    const q = c.quantity === "1" ? "" : ` × ${c.quantity}`;
    return `${c.name}: ${c.unit_price} ${currency}/hour${q} × ${HOURS_PER_MONTH} hours = ${c.monthly} ${currency}/month`;
  }
  const unit = { "gb-month": "GB", month: "tier", "iops-month": "IOPS", "mibps-month": "MiB/s" }[c.unit];
  return `${c.name}: ${c.quantity} ${unit} × ${c.unit_price} ${currency}/${unit}-month = ${c.monthly} ${currency}/month`;
}

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

/**
 * Estimates a request's monthly cost from the book. Pure: the same request and book give the same
 * estimate. Anything the book cannot price gives an `unknown` estimate naming the reason — never a guess.
 */
export function estimateCost(book: PriceBook, request: ResourceRequest): CostEstimate {
  const specs = request.specs ?? {};
  const provider = str(request.provider);
  const region = str(request.region);
  const category = request.type.split("/")[0];
  const b = new Builder(book);

  if (request.type === "compute/instance" || (category === "compute" && str(specs.instance_type))) {
    const sku = str(specs.instance_type);
    if (!sku) return unknownCost(reasonMissing(request, "specs.instance_type", "instance type"));
    if (specs.spot === true || specs.preemptible === true)
      return unknownCost(`\`${sku}\` is spot/preemptible: the book holds on-demand prices only`);
    if (num(specs.accelerators) !== undefined && num(specs.accelerators)! > 0)
      return unknownCost(`\`${sku}\` has attached accelerators, which the book does not price`);
    const m = book.price({ service: "compute", sku, region, provider, os: normaliseOs(str(specs.os)) });
    if ("missing" in m) return unknownCost(m.missing);
    b.hourly(sku, m);
    return b.finish();
  }

  if (request.type === "database/instance") {
    const sku = str(specs.instance_type);
    if (!sku) return unknownCost(reasonMissing(request, "specs.instance_type", "DB instance class"));
    const engine = normaliseEngine(str(specs.engine));
    if (!engine) return unknownCost(reasonMissing(request, "specs.engine", "database engine"));
    const m = book.price({ service: "database", sku, region, provider, engine });
    if ("missing" in m) return unknownCost(m.missing);
    const multiAz = specs.multi_az === true;
    b.hourly(multiAz ? `${sku} ${engine} Multi-AZ` : `${sku} ${engine}`, m, multiAz ? "2" : "1");
    if (multiAz) b.assumptions.push("Multi-AZ: instance and storage priced at twice the single-AZ rate");
    const storage = num(specs.storage_gb);
    if (storage !== undefined && storage > 0) {
      const type = str(specs.storage_type) ?? str(specs.volume_sku);
      if (!type) return unknownCost(reasonMissing(request, "specs.storage_type", "storage type"));
      const sm = book.price({ service: "database-storage", sku: type, region, provider });
      if ("missing" in sm) return unknownCost(`storage: ${sm.missing}`);
      const gb = multiAz ? String(storage * 2) : String(storage);
      b.monthly(`${type} storage`, sm, gb);
      const iops = num(specs.iops);
      if (iops !== undefined && iops > 0) {
        const im = book.price({ service: "database-iops", sku: type, region, provider });
        if (!("missing" in im)) {
          const q = billable(String(multiAz ? iops * 2 : iops), im.entry.included);
          if (q !== "0") b.monthly(`${type} provisioned IOPS`, im, q);
        }
      }
    } else if (storage === undefined) {
      return unknownCost(reasonMissing(request, "specs.storage_gb", "allocated storage"));
    }
    return b.finish();
  }

  if (request.type === "storage/volume" || category === "storage") {
    const sku = str(specs.volume_sku) ?? str(specs.volume_type);
    if (!sku)
      return unknownCost(
        reasonMissing(request, "specs.volume_sku", "volume type", "specs.volume_sku or specs.volume_type"),
      );
    const size = num(specs.size_gb);
    if (size === undefined) return unknownCost(reasonMissing(request, "specs.size_gb", "volume size"));
    const tiers = book.tiers(sku, region, provider);
    const m = book.price({ service: "volume", sku, region, provider });
    // A per-GB price from a later table than the tiers' wins over them, as any later entry does.
    const perGb = "missing" in m || m.entry.max_gb !== undefined ? undefined : m.entry;
    if (tiers.length > 0 && !(perGb && tiers.every((t) => t.entry.layer < perGb.layer))) {
      const tier = tiers.find((t) => t.entry.max_gb! >= size);
      if (!tier) return unknownCost(`${size} GB is larger than the largest \`${sku}\` tier in the book`);
      b.monthly(`${sku} tier up to ${tier.entry.max_gb} GB`, tier, "1");
      return b.finish();
    }
    if ("missing" in m) return unknownCost(m.missing);
    b.monthly(`${sku} storage`, m, String(size));
    for (const [service, field, label] of [
      ["volume-iops", "iops", "provisioned IOPS"],
      ["volume-throughput", "throughput_mibps", "provisioned throughput"],
    ] as const) {
      const extra = book.price({ service, sku, region, provider });
      if ("missing" in extra) continue;
      const amount = num(specs[field]);
      if (amount === undefined) {
        if (extra.entry.included === undefined)
          return unknownCost(reasonMissing(request, `specs.${field}`, `${label} (billed for ${sku})`));
        continue; // the included baseline applies
      }
      const q = billable(String(amount), extra.entry.included);
      if (q !== "0") b.monthly(`${sku} ${label}`, extra, q);
    }
    return b.finish();
  }

  return unknownCost(`no price model for resource type \`${request.type}\``);
}

/** Units beyond the included amount (never negative). */
function billable(quantity: string, included: string | undefined): string {
  if (included === undefined) return quantity;
  const over = sub(quantity, included);
  return compare(over, "0") > 0 ? over : "0";
}

/** Names a missing field; the Terraform gate lists fields only known after apply in `unknown_fields`. */
function reasonMissing(request: ResourceRequest, field: string, what: string, fields = field): string {
  const unknown = request.unknown_fields;
  if (Array.isArray(unknown) && unknown.includes(field))
    return `${what} (${field}) is known only after apply`;
  return `the request has no ${what} (${fields})${misplacedSpec(request, field)}`;
}
