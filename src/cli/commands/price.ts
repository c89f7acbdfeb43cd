import type { Command } from "commander";
import { InputError } from "../../errors.js";
import { closest } from "../../policy/suggest.js";
import type { BookEntry, PriceBook } from "../../pricing/book.js";
import { formatMoney, monthlyFromHourly } from "../../pricing/money.js";
import { DEFAULT_SOURCE } from "../../pricing/parse.js";
import { entryKey } from "../../pricing/types.js";
import type { CliContext } from "../context.js";
import { CliExit, EXIT } from "../exit.js";
import { collect } from "../policy-options.js";
import { loadPriceBookForCli } from "../price-options.js";
import { type Column, renderTable, useColor } from "../table.js";

const UNIT_TEXT: Record<string, string> = {
  hour: "hour",
  "gb-month": "GB-month",
  month: "month",
  "iops-month": "IOPS-month",
  "mibps-month": "MiB/s-month",
};

export function registerPrice(program: Command, ctx: CliContext): void {
  program
    .command("price")
    .description("show what the price book knows about instance, database and volume types")
    .argument("<types...>", "instance types, machine types, VM sizes, DB classes or volume types")
    .option(
      "--price-book <path>",
      "CSV or YAML price table adding to or overriding the embedded book (repeatable)",
      collect,
    )
    .option("--region <region>", "only entries for this region (and those for every region)")
    .option("--format <format>", "table or json", "table")
    .addHelpText(
      "after",
      `
Prints every entry for each type: specs, price, monthly (hourly × 730) and where the figure comes from.
Types the book does not know are named on stderr; the exit code is then 2.

Examples:
  costguard price m5.large p3.8xlarge
  costguard price gp3 db.m5.large --format json
  costguard price m5.large --price-book my-rates.csv`,
    )
    .action((types: string[], opts: { priceBook?: string[]; region?: string; format: string }) => {
      if (opts.format !== "json" && opts.format !== "table")
        throw new InputError(`--format must be table or json, got ${opts.format}`);
      const book = loadPriceBookForCli(opts.priceBook);
      const found: { type: string; entries: BookEntry[] }[] = [];
      const unknown: string[] = [];
      // A type named twice (in any case: the book's lookup ignores it) is shown once.
      for (const type of new Map(types.map((t) => [t.toLowerCase(), t])).values()) {
        let entries = book.lookup(type);
        if (opts.region !== undefined) {
          const region = opts.region.toLowerCase();
          entries = entries.filter((e) => e.region === "*" || e.region.toLowerCase() === region);
        }
        if (entries.length === 0) unknown.push(type);
        else found.push({ type, entries });
      }
      if (opts.format === "json") {
        const out = found.flatMap(({ entries }) => entries.map((e) => describeEntry(book, e, opts.region)));
        ctx.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      } else if (found.length > 0) {
        ctx.stdout.write(
          renderPriceTable(
            book,
            found.flatMap((f) => f.entries),
            opts.region,
            useColor(ctx.stdout),
          ),
        );
      }
      if (unknown.length > 0) {
        const names = new Set(book.entries.map((e) => e.sku));
        for (const type of unknown) {
          // A type the book knows in other regions: name them, not the type itself as a near miss.
          const regions = [...new Set(book.lookup(type).map((e) => e.region))].sort();
          if (regions.length > 0) {
            ctx.stderr.write(
              `costguard: \`${type}\` is not in the price book for region ${opts.region}, only for ${regions.join(", ")}; add a price for ${opts.region} with --price-book\n`,
            );
            continue;
          }
          const hint = closest(type, names);
          const where = opts.region === undefined ? "" : ` for region ${opts.region}`;
          ctx.stderr.write(
            `costguard: unknown type \`${type}\`: not in the price book${where}${hint ? ` (did you mean \`${hint}\`?)` : ""}; add it with --price-book\n`,
          );
        }
        throw new CliExit(EXIT.badInput);
      }
    });
}

/** A region no table names: asks the book which entry "every region" means for a type. */
const ANY_OTHER_REGION = "costguard:any-other-region";

/**
 * The entry an estimate uses instead of `e` for `e`'s own type, region, OS and engine — a later
 * table's entry for every region over the embedded one for us-east-1 — or undefined when it uses `e`.
 * An entry for every region is judged for `region` when one is asked for (`--region`: a table's own
 * entry for that region wins over it there), else for a region no table names.
 */
function usedInstead(book: PriceBook, e: BookEntry, region: string | undefined): BookEntry | undefined {
  if (e.price === undefined) return undefined;
  const match = book.price({
    service: e.service,
    sku: e.sku,
    provider: e.provider,
    region: e.region === "*" ? (region ?? ANY_OTHER_REGION) : e.region,
    os: e.os || undefined,
    engine: e.engine || undefined,
  });
  if ("missing" in match) return undefined;
  const used = match.entry;
  // A tier is left behind only by a per-GB price from a later table (estimate.ts).
  if (e.max_gb !== undefined) return used.max_gb === undefined && used.layer > e.layer ? used : undefined;
  return used.layer === e.layer && entryKey(used) === entryKey(e) ? undefined : used;
}

/** How the table and JSON name the entry used instead. */
function insteadText(used: BookEntry): string {
  return `${used.source}'s entry for ${used.region === "*" ? "every region" : used.region}`;
}

function describeEntry(book: PriceBook, e: BookEntry, region: string | undefined) {
  const instead = usedInstead(book, e, region);
  return {
    provider: e.provider,
    service: e.service,
    type: e.sku,
    region: e.region,
    os: e.os || (e.service === "compute" ? "linux" : undefined),
    engine: e.engine || undefined,
    category: e.category || undefined,
    vcpus: e.vcpus,
    memory_gib: e.memory_gib,
    gpus: e.gpus,
    max_gb: e.max_gb,
    unit: e.unit,
    price: e.price ?? null,
    included: e.included,
    currency: e.currency,
    monthly: e.price !== undefined && e.unit === "hour" ? monthlyFromHourly(e.price) : undefined,
    source: book.sourceText(e.source),
    origin: e.origin,
    overrides: e.overrides,
    // False when estimates for this type, region, OS and engine use another entry (`used_instead`).
    used: instead === undefined,
    ...(instead
      ? { used_instead: { source: instead.source, region: instead.region, price: instead.price } }
      : {}),
  };
}

function renderPriceTable(
  book: PriceBook,
  entries: readonly BookEntry[],
  region: string | undefined,
  color: boolean,
): string {
  const instead = new Map(entries.map((e) => [e, usedInstead(book, e, region)]));
  const columns: Column<BookEntry>[] = [
    { header: "PROVIDER", value: (e) => e.provider },
    { header: "SERVICE", value: (e) => e.service },
    { header: "TYPE", value: (e) => (e.max_gb === undefined ? e.sku : `${e.sku} ≤${e.max_gb} GB`) },
    { header: "REGION", value: (e) => e.region },
    { header: "OS/ENGINE", value: (e) => e.engine || e.os || (e.service === "compute" ? "linux" : "-") },
    { header: "CATEGORY", value: (e) => e.category || "-" },
    { header: "VCPUS", value: (e) => (e.vcpus === undefined ? "-" : String(e.vcpus)), align: "right" },
    {
      header: "MEMORY_GIB",
      value: (e) => (e.memory_gib === undefined ? "-" : String(e.memory_gib)),
      align: "right",
    },
    {
      header: "PRICE",
      value: (e) =>
        e.price === undefined
          ? "unknown"
          : `${e.price} ${e.currency}/${UNIT_TEXT[e.unit]}${e.included ? ` over ${e.included}` : ""}`,
      style: (e) => (e.price === undefined ? "yellow" : undefined),
    },
    {
      header: "MONTHLY",
      value: (e) =>
        e.price !== undefined && e.unit === "hour"
          ? formatMoney(monthlyFromHourly(e.price), e.currency)
          : "-",
      align: "right",
    },
    {
      header: "SOURCE",
      value: (e) => {
        const used = instead.get(e);
        if (used) return `${e.source} (not used: ${insteadText(used)} wins)`;
        return e.overrides ? `${e.source} (overrides embedded)` : e.source;
      },
      style: (e) => (instead.get(e) ? "dim" : undefined),
    },
  ];
  // A declared source is explained; free text is its own explanation, so only the default is said.
  const sources = [...new Set(entries.map((e) => e.source))].flatMap((id) => {
    const text = book.sourceText(id);
    if (text !== id) return [`  ${id}: ${text}`];
    return id === DEFAULT_SOURCE ? [`  ${id}: a --price-book entry that names no source`] : [];
  });
  return `${renderTable(entries, columns, color)}monthly = hourly × 730\n${sources.length > 0 ? `sources:\n${sources.join("\n")}\n` : ""}`;
}
