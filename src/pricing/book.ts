import type { DefaultedField, PriceTable } from "./parse.js";
import { entryKey, type PriceEntry, type Service } from "./types.js";

/** Where each cloud's embedded prices are given, used when a request names no region (and said so). */
export const DEFAULT_REGIONS: Readonly<Record<string, string>> = {
  aws: "us-east-1",
  gcp: "us-central1",
  azure: "eastus",
};

export interface BookEntry extends PriceEntry {
  /** Which table it came from: later tables override earlier ones (the embedded book is 0). */
  layer: number;
  /** The entry this one replaced, if it overrode one with the same key. */
  overrides?: string;
}

export interface PriceQuery {
  service: Service;
  sku: string;
  region?: string | undefined;
  provider?: string | undefined;
  os?: string | undefined;
  engine?: string | undefined;
}

export interface PriceMatch {
  entry: BookEntry;
  /** Set when the request named no region and the provider's default region was used. */
  assumedRegion?: string;
}

/** An immutable set of price entries with the lookups estimation and enrichment need. */
export interface PriceBook {
  readonly entries: readonly BookEntry[];
  readonly sources: ReadonlyMap<string, string>;
  /**
   * What a type is (vcpus, memory, gpus, category) in a region: each field from the entries for that
   * region (or every region; with no region, the provider's book region), latest table first, a field
   * they all leave empty from the type's entries for other regions (a type's shape is the same
   * everywhere). The entry returned is the best-ranked one with those fields merged in.
   */
  specs(service: Service, sku: string, provider?: string, region?: string): BookEntry | undefined;
  /** The priced entry for a type in a region, or the reason there is none. */
  price(query: PriceQuery): PriceMatch | { missing: string };
  /** Fixed-size tiers (Azure managed disks), smallest first. */
  tiers(sku: string, region: string | undefined, provider?: string): PriceMatch[];
  /** Every entry for a type, any service and region. */
  lookup(sku: string): BookEntry[];
  /** Describes a source id as its declared text (or the id itself). */
  sourceText(id: string): string;
}

/**
 * Merges tables in order: an entry with the same service, type, region, OS and engine as an earlier
 * one replaces it, keeping the earlier entry's fields the new one leaves empty (so a user table can
 * change a price without restating specs).
 */
export function createPriceBook(tables: readonly PriceTable[]): PriceBook {
  const byKey = new Map<string, BookEntry>();
  const sources = new Map<string, string>();
  tables.forEach((table, layer) => {
    for (const s of table.sources) sources.set(s.id, s.text);
    for (const e of table.entries) {
      const key = entryKey(e);
      const previous = byKey.get(key);
      const merged: BookEntry = previous
        ? mergeEntry(previous, e, layer, table.defaulted?.get(e) ?? [])
        : { ...e, layer };
      byKey.set(key, merged);
    }
  });
  const entries = Object.freeze([...byKey.values()].map((e) => Object.freeze(e)));
  const bySku = new Map<string, BookEntry[]>();
  for (const e of entries) {
    const k = e.sku.toLowerCase();
    const list = bySku.get(k);
    if (list) list.push(e);
    else bySku.set(k, [e]);
  }
  // Providers are kept in lower case (parse.ts); a request may say `AWS`, as FOCUS's ProviderName does.
  const candidates = (service: Service, sku: string, provider?: string) => {
    const wanted = provider?.toLowerCase();
    return (bySku.get(sku.toLowerCase()) ?? []).filter(
      (e) => e.service === service && (wanted === undefined || e.provider === wanted),
    );
  };

  return {
    entries,
    sources,
    specs(service, sku, provider, region) {
      // Best first: an entry for the region before one for another, then the latest table, then
      // (within a table) the exact region before every region.
      const ranked = candidates(service, sku, provider)
        .map((e) => ({ e, fits: fitsRegion(e, region), exact: e.region !== "*" }))
        .sort(
          (a, b) =>
            Number(b.fits) - Number(a.fits) || b.e.layer - a.e.layer || Number(b.exact) - Number(a.exact),
        )
        .map((r) => r.e);
      const first = <K extends "vcpus" | "memory_gib" | "gpus">(key: K) =>
        ranked.find((e) => e[key] !== undefined)?.[key];
      const category = ranked.find((e) => e.category !== "")?.category ?? "";
      const vcpus = first("vcpus");
      if (vcpus === undefined && category === "") return undefined;
      const merged: BookEntry = { ...ranked[0]!, category };
      for (const [key, value] of [
        ["vcpus", vcpus],
        ["memory_gib", first("memory_gib")],
        ["gpus", first("gpus")],
      ] as const) {
        if (value === undefined) delete merged[key];
        else merged[key] = value;
      }
      return merged;
    },
    price(query) {
      const os = normaliseOs(query.os);
      const engine = query.engine ?? "";
      const all = candidates(query.service, query.sku, query.provider);
      if (all.length === 0) {
        // Known under another provider: said, as a provider misspelt (or another cloud's) is likelier
        // than a type the book lacks.
        const others = [...new Set(candidates(query.service, query.sku).map((e) => e.provider))];
        return {
          missing:
            query.provider !== undefined && others.length > 0
              ? `\`${query.sku}\` is in the price book for ${others.join(", ")}, not for provider ${query.provider}`
              : `\`${query.sku}\` is not in the price book`,
        };
      }
      const fitting = all.filter((e) => e.os === os && e.engine === engine);
      if (fitting.length === 0) {
        const what = [os && `OS ${os}`, engine && `engine ${engine}`].filter(Boolean).join(", ");
        const have = [...new Set(all.map((e) => [e.os || "linux", e.engine].filter(Boolean).join("/")))];
        return {
          missing: `no entry for \`${query.sku}\` with ${what || "this OS/engine"} (the book has: ${have.join(", ")})`,
        };
      }
      const priced = fitting.filter((e) => e.price !== undefined);
      if (priced.length === 0)
        return {
          missing: `the price book knows \`${query.sku}\` but has no sourceable price for it (${sourceOf(fitting[0]!, sources)})`,
        };
      // Fixed-size tiers are priced by `tiers`; they only say which regions the type has.
      const perUnit = priced.filter((e) => e.max_gb === undefined);
      return pick(perUnit.length > 0 ? perUnit : priced, query.region, query.sku);
    },
    tiers(sku, region, provider) {
      const all = candidates("volume", sku, provider).filter(
        (e) => e.unit === "month" && e.max_gb !== undefined && e.price !== undefined,
      );
      const sizes = [...new Set(all.map((e) => e.max_gb!))].sort((a, b) => a - b);
      const out: PriceMatch[] = [];
      for (const size of sizes) {
        const m = pick(
          all.filter((e) => e.max_gb === size),
          region,
          sku,
        );
        if ("entry" in m) out.push(m);
      }
      return out;
    },
    lookup(sku) {
      return [...(bySku.get(sku.toLowerCase()) ?? [])];
    },
    sourceText(id) {
      return sources.get(id) ?? id;
    },
  };
}

/** Whether an entry applies in `region`; with none, in the provider's book region. */
function fitsRegion(e: BookEntry, region: string | undefined): boolean {
  if (e.region === "*") return true;
  const wanted = region ?? DEFAULT_REGIONS[e.provider];
  return wanted !== undefined && e.region.toLowerCase() === wanted.toLowerCase();
}

function pick(
  priced: readonly BookEntry[],
  region: string | undefined,
  sku: string,
): PriceMatch | { missing: string } {
  let best: BookEntry | undefined;
  let assumed: string | undefined;
  for (const e of priced) {
    // Regions are matched whatever their case, the provider's book region too (`US-EAST-1` in a table).
    if (!fitsRegion(e, region)) continue;
    const exact = e.region !== "*";
    // The latest table wins; within one table an entry for the region beats one for every region.
    if (!best || e.layer > best.layer || (e.layer === best.layer && exact && best.region === "*")) best = e;
  }
  if (!best) {
    const regions = [...new Set(priced.map((e) => e.region))].join(", ");
    return {
      missing:
        region === undefined
          ? `no price for \`${sku}\` without a region (the book has: ${regions})`
          : `no price for \`${sku}\` in ${region} (the book has: ${regions}); add one with --price-book`,
    };
  }
  if (region === undefined && best.region !== "*") assumed = best.region;
  return assumed === undefined ? { entry: best } : { entry: best, assumedRegion: assumed };
}

/**
 * `next` over `previous`; what `next` left empty stays previous's, a field it was given a default
 * for too: its unit always (a tier stays a tier), its currency and source when it gives no price
 * (they say what the price is in and where it comes from, so a price brings its own).
 */
function mergeEntry(
  previous: BookEntry,
  next: PriceEntry,
  layer: number,
  defaulted: readonly DefaultedField[],
): BookEntry {
  const kept = next.price === undefined ? defaulted : defaulted.filter((f) => f === "unit");
  const merged: BookEntry = { ...previous, ...stripEmpty(next, kept), layer, overrides: previous.origin };
  return merged;
}

function stripEmpty(e: PriceEntry, defaulted: readonly string[]): Partial<PriceEntry> {
  const out: Partial<PriceEntry> = {};
  for (const [k, v] of Object.entries(e)) {
    if (v === undefined || v === "" || defaulted.includes(k)) continue;
    (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

export function normaliseOs(os: string | undefined): string {
  const o = (os ?? "").toLowerCase();
  return o === "linux" ? "" : o;
}

export function sourceOf(e: PriceEntry, sources: ReadonlyMap<string, string>): string {
  return sources.get(e.source) ?? e.source;
}
