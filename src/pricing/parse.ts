import { isSeq, LineCounter, parseDocument } from "yaml";
import { InputError } from "../errors.js";
import { currencyProblem } from "../money/currency.js";
import { closest } from "../policy/suggest.js";
import { NESTED_TOO_DEEP, QUIET_YAML, yamlTooDeep } from "../yaml-value.js";
import { CsvQuoteError, readCsv } from "./csv.js";
import { isDecimalText } from "./money.js";
import {
  entryKey,
  normaliseEngine,
  type PriceEntry,
  type PriceSource,
  type PriceUnit,
  SERVICES,
  type Service,
  UNITS,
} from "./types.js";

/** The source of a table's entry that names none. */
export const DEFAULT_SOURCE = "user";

/** One table of prices as read from a file: its entries and the sources it declares. */
export interface PriceTable {
  name: string;
  entries: PriceEntry[];
  sources: PriceSource[];
  /**
   * For each entry, the fields its line left empty that hold a default (`currency` USD, `unit` by
   * service, `source` user): an override keeps the earlier entry's value for these (docs/pricing.md).
   */
  defaulted?: ReadonlyMap<PriceEntry, readonly DefaultedField[]>;
}

/** Fields an entry gets a default for when its line leaves them empty. */
export type DefaultedField = "unit" | "currency" | "source";

const COLUMNS = [
  "provider",
  "service",
  "sku",
  "region",
  "os",
  "engine",
  "category",
  "vcpus",
  "memory_gib",
  "gpus",
  "unit",
  "price",
  "included",
  "max_gb",
  "currency",
  "source",
] as const;
type Column = (typeof COLUMNS)[number];
type Row = Partial<Record<Column, string>>;

const DEFAULT_UNIT: Record<Service, PriceUnit> = {
  compute: "hour",
  database: "hour",
  volume: "gb-month",
  "volume-iops": "iops-month",
  "volume-throughput": "mibps-month",
  "database-storage": "gb-month",
  "database-iops": "iops-month",
};

const SOURCE_LINE = /^source\s+([A-Za-z0-9._-]+)\s*:\s*(.+)$/;

/**
 * Reads a price table in CSV (header row naming any of the columns, in any order) or YAML
 * (`entries:` list or a bare list of mappings). Every value is read as text, so prices stay exact.
 * `# source ID: text` comment lines (CSV) or a `sources:` mapping (YAML) declare where figures come from.
 */
export function parsePriceTable(text: string, name: string): PriceTable {
  // JSON is YAML too (`{"entries": [...]}`): read so, not as a CSV whose header is its first line.
  // Leading `# ...` comments and a `---` document start say nothing either way: what follows does.
  const body = text.replace(/^\uFEFF?(?:[ \t]*(?:#[^\n]*)?\r?\n)*/, "");
  const yaml =
    /\.(ya?ml|json)$/i.test(name) ||
    /^---\s*$/m.test(body.split("\n", 1)[0]!) ||
    /^\s*(entries\s*:|sources\s*:|-\s|[{[])/.test(body);
  return yaml ? parseYamlTable(text, name) : parseCsvTable(text, name);
}

function parseCsvTable(text: string, name: string): PriceTable {
  let read: ReturnType<typeof readCsv>;
  try {
    read = readCsv(text);
  } catch (err) {
    if (err instanceof CsvQuoteError) throw new InputError(`${name}:${err.line}: ${err.message}`);
    throw err;
  }
  const { comments, records } = read;
  const sources: PriceSource[] = [];
  for (const c of comments) {
    const m = SOURCE_LINE.exec(c.text);
    if (m) sources.push({ id: m[1]!, text: m[2]!.trim() });
  }
  const [header, ...rows] = records;
  if (!header) throw new InputError(`${name}: empty price table (expected a header row and entries)`);
  const columns = header.fields.map((f) => f.trim().toLowerCase());
  columns.forEach((col, i) => {
    if (!(COLUMNS as readonly string[]).includes(col)) {
      throw new InputError(
        `${name}:${header.line}: unknown column \`${col}\` (column ${i + 1}); known columns: ${COLUMNS.join(", ")}`,
      );
    }
  });
  const twice = columns.find((col, i) => columns.indexOf(col) !== i);
  if (twice !== undefined)
    throw new InputError(
      `${name}:${header.line}: the header names the column \`${twice}\` twice: which of its values is meant is unknown`,
    );
  if (!columns.includes("sku"))
    throw new InputError(`${name}:${header.line}: the header has no \`sku\` column`);
  const defaulted = new Map<PriceEntry, DefaultedField[]>();
  const entries = rows.map((r) => {
    if (r.fields.length !== columns.length) {
      throw new InputError(
        `${name}:${r.line}: ${r.fields.length} fields, but the header names ${columns.length} columns`,
      );
    }
    const row: Row = {};
    columns.forEach((col, i) => {
      row[col as Column] = r.fields[i]!.trim();
    });
    return toEntry(row, `${name}:${r.line}`, defaulted);
  });
  refuseRepeats(entries);
  return { name, entries, sources, defaulted };
}

function parseYamlTable(text: string, name: string): PriceTable {
  const deep = yamlTooDeep(text);
  if (deep !== undefined) throw new InputError(`${name}:${deep.line}:${deep.column}: ${NESTED_TOO_DEEP}`);
  const lines = new LineCounter();
  // failsafe: every scalar stays the text it was written as (no float rounding of prices).
  const parsed = parseDocument(text, { schema: "failsafe", lineCounter: lines, ...QUIET_YAML });
  const error = parsed.errors[0];
  if (error !== undefined) throw new InputError(`${name}: not valid YAML: ${error.message.split("\n")[0]}`);
  const doc: unknown = parsed.toJS();
  const list = Array.isArray(doc) ? doc : (doc as { entries?: unknown } | null)?.entries;
  if (!Array.isArray(list)) {
    const keys = doc !== null && typeof doc === "object" ? Object.keys(doc) : [];
    const meant = keys.find((k) => k !== "entries" && closest(k, ["entries"]) !== undefined);
    throw new InputError(
      `${name}: expected \`entries:\` with a list of price entries${meant !== undefined ? ` (it has \`${meant}\`: did you mean \`entries\`?)` : ""}`,
    );
  }
  // Each entry's line, for messages: `file:LINE: entries[i]`.
  const seq = isSeq(parsed.contents) ? parsed.contents : parsed.get("entries", true);
  const lineOf = (i: number): string => {
    const start = isSeq(seq)
      ? (seq.items[i] as { range?: [number, number, number] } | undefined)?.range?.[0]
      : undefined;
    return start === undefined ? "" : `:${lines.linePos(start).line}`;
  };
  // A key beside them (`source:` for `sources:`, `entries2`) would be dropped unread.
  if (!Array.isArray(doc))
    for (const key of Object.keys(doc as object))
      if (key !== "entries" && key !== "sources") {
        const meant = closest(key, ["entries", "sources"]);
        throw new InputError(
          `${name}: unknown key \`${key}\`${meant !== undefined ? ` (did you mean \`${meant}\`?)` : ""}; a price book has \`entries:\` and \`sources:\``,
        );
      }
  const sources: PriceSource[] = [];
  const declared = Array.isArray(doc) ? undefined : (doc as { sources?: unknown }).sources;
  if (declared !== undefined) {
    if (declared === null || typeof declared !== "object" || Array.isArray(declared))
      throw new InputError(`${name}: \`sources\` must map a source id to its description`);
    for (const [id, t] of Object.entries(declared)) {
      if (typeof t !== "string")
        throw new InputError(`${name}: sources.${id} must be text describing the source`);
      sources.push({ id, text: t });
    }
  }
  const defaulted = new Map<PriceEntry, DefaultedField[]>();
  const entries = list.map((item, i) => {
    const where = `${name}${lineOf(i)}: entries[${i}]`;
    if (item === null || typeof item !== "object" || Array.isArray(item))
      throw new InputError(`${where}: expected a mapping (sku, price, ...)`);
    const row: Row = {};
    for (const [k, v] of Object.entries(item as Record<string, unknown>)) {
      if (!(COLUMNS as readonly string[]).includes(k))
        throw new InputError(`${where}: unknown key \`${k}\`; known keys: ${COLUMNS.join(", ")}`);
      if (typeof v !== "string") throw new InputError(`${where}: \`${k}\` must be a single value`);
      row[k as Column] = v.trim();
    }
    return toEntry(row, where, defaulted);
  });
  refuseRepeats(entries);
  return { name, entries, sources, defaulted };
}

/**
 * One table prices a line once: a second entry for the same type, region, OS and engine would
 * replace the first in silence (two prices pasted for one type, the wrong one used), as a later
 * table's entry rightly does.
 */
function refuseRepeats(entries: readonly PriceEntry[]): void {
  const seen = new Map<string, PriceEntry>();
  for (const e of entries) {
    const key = entryKey(e);
    const first = seen.get(key);
    if (first !== undefined)
      throw new InputError(
        `${e.origin}: \`${e.sku}\` (${e.service}, region ${e.region}, ${[e.os || "linux", e.engine].filter(Boolean).join("/")}${e.max_gb === undefined ? "" : `, up to ${e.max_gb} GB`}) is priced twice in this table: first at ${first.origin}; a table prices each once (a later --price-book overrides)`,
      );
    seen.set(key, e);
  }
}

function toEntry(row: Row, where: string, defaulted: Map<PriceEntry, DefaultedField[]>): PriceEntry {
  const sku = row.sku ?? "";
  if (sku === "") throw new InputError(`${where}: \`sku\` is empty`);
  const service = (row.service || "compute") as Service;
  if (!SERVICES.includes(service))
    throw new InputError(`${where}: service \`${service}\` is not one of ${SERVICES.join(", ")}`);
  const unit = (row.unit || DEFAULT_UNIT[service]) as PriceUnit;
  if (!UNITS.includes(unit))
    throw new InputError(`${where}: unit \`${unit}\` is not one of ${UNITS.join(", ")}`);
  const entry: PriceEntry = {
    provider: (row.provider || guessProvider(sku)).toLowerCase(),
    service,
    sku,
    region: row.region || "*",
    os: (row.os ?? "").toLowerCase(),
    // As a request's is: an entry for `postgresql` would price no request (they say postgres).
    engine: normaliseEngine(row.engine) ?? "",
    category: row.category ?? "",
    unit,
    currency: (row.currency || "USD").toUpperCase(),
    source: row.source || DEFAULT_SOURCE,
    origin: where,
  };
  if (entry.os === "linux") entry.os = "";
  // A misspelt OS (`windwos`) would be an entry no request is priced by.
  if (entry.os !== "" && entry.os !== "windows")
    throw new InputError(`${where}: os \`${row.os}\` is not linux or windows`);
  // ISO 4217, as a policy's limit is: a price in `UDS` would be compared with no limit at all.
  const currency = currencyProblem(entry.currency);
  if (currency !== undefined) throw new InputError(`${where}: currency ${currency}`);
  if (row.price) {
    if (!isDecimalText(row.price) || row.price.startsWith("-"))
      throw new InputError(`${where}: price \`${row.price}\` is not a non-negative decimal number`);
    entry.price = row.price;
  }
  if (row.included) {
    // A negative one billed more than was provisioned (-3000 IOPS included: 6000 billed for 3000).
    if (!isDecimalText(row.included) || row.included.startsWith("-"))
      throw new InputError(`${where}: included \`${row.included}\` is not a non-negative decimal number`);
    entry.included = row.included;
  }
  for (const key of ["vcpus", "memory_gib", "gpus", "max_gb"] as const) {
    const v = row[key];
    if (v === undefined || v === "") continue;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0)
      throw new InputError(`${where}: ${key} \`${v}\` is not a non-negative number`);
    entry[key] = n;
  }
  if (entry.price === undefined && entry.vcpus === undefined && entry.category === "")
    throw new InputError(`${where}: entry for \`${sku}\` has neither a price nor specs`);
  const empty = (["unit", "currency", "source"] as const).filter((f) => !row[f]);
  if (empty.length > 0) defaulted.set(entry, empty);
  return entry;
}

/** A provider from the way each cloud spells its types, for user tables that leave `provider` out. */
export function guessProvider(sku: string): string {
  if (/^(Standard|Basic)_/i.test(sku) || /_LRS$|_ZRS$/i.test(sku)) return "azure";
  if (/^(e2|n1|n2|n2d|n4|c2|c2d|c3|c3d|c4|c4a|c4d|m1|m2|m3|a2|a3|g2|t2a|t2d|z3|h3)-/.test(sku)) return "gcp";
  if (/^(pd|hyperdisk)-/.test(sku)) return "gcp";
  return "aws";
}
