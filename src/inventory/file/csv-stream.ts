import { isUtf8 } from "node:buffer";
import { type CsvRecord, CsvScanError, CsvScanner } from "../../budget/csv-scanner.js";
import { InputError } from "../../errors.js";
import { inventoryBytes } from "./input-bytes.js";

/** Columns read as numbers; every other column is text. */
const NUMERIC = new Set([
  "specs.vcpus",
  "specs.memory_gb",
  "specs.size_gb",
  "specs.storage_gb",
  "specs.iops",
  "specs.gpus",
  "specs.replicas",
  "metrics.avg_cpu_percent",
  "metrics.avg_network_bytes",
  "metrics.window_days",
]);

/**
 * Streams resources from CSV with a header row. Columns name fields, dotted for nesting:
 * `id,type,name,state,tags.owner,specs.vcpus,metrics.avg_cpu_percent,...`; a `tags` column may also
 * hold a JSON object. Empty cells are left out. Costs stay decimal text. Records are cut by the
 * project's byte-level RFC 4180 scanner (the one FOCUS billing ingest uses).
 */
export async function* readCsvResources(
  path: string,
  name: string,
  onBytes?: (bytes: number) => void,
): AsyncGenerator<{ value: unknown; where: string }[]> {
  let header: string[] | undefined;
  let batch: { value: unknown; where: string }[] = [];
  const scanner = new CsvScanner((rec: CsvRecord) => {
    if (rec.errorField >= 0) throw new InputError(`${name}:${rec.line}: not valid CSV: ${rec.errorMessage}`);
    const fields: string[] = [];
    for (let i = 0; i < rec.count; i++) {
      const text = rec.text(i);
      // A replacement character the bytes did not spell: they are not UTF-8 (never read as if they were).
      if (text.includes("\uFFFD") && !isUtf8(rec.buf.subarray(rec.start(i), rec.end(i))))
        throw new InputError(
          `${name}:${rec.line}: field ${i + 1} is not UTF-8 text: inventories are UTF-8; convert the file (iconv -f WINDOWS-1252 -t UTF-8, say, for a spreadsheet's export) or mend the damaged bytes`,
        );
      fields.push(text);
    }
    if (fields.length === 1 && fields[0] === "") return; // a blank line
    if (!header) {
      header = fields.map((h, i) => (i === 0 ? h.replace(/^\uFEFF/, "") : h).trim());
      if (!header.includes("id") || !header.includes("type"))
        throw new InputError(
          `${name}:${rec.line}: the CSV header needs at least the columns id and type${headerHint(header)}`,
        );
      checkHeader(header, `${name}:${rec.line}`);
      return;
    }
    if (fields.length !== header.length)
      throw new InputError(
        `${name}:${rec.line}: not valid CSV: ${fields.length} fields where the header has ${header.length}`,
      );
    batch.push({ value: toObject(header, fields, name, rec.line), where: `${name}:${rec.line}` });
  });
  const chunks = inventoryBytes(path, name, true);
  const guard = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      if (err instanceof CsvScanError)
        throw new InputError(`${name}:${err.line}: not valid CSV: ${err.message}`);
      throw err;
    }
  };
  for await (const chunk of chunks) {
    guard(() => scanner.push(chunk));
    onBytes?.(scanner.bytes);
    if (batch.length > 0) {
      yield batch;
      batch = [];
    }
  }
  guard(() => scanner.end());
  onBytes?.(scanner.bytes);
  if (batch.length > 0) yield batch;
  // A header with no rows is an empty estate; no header at all is no CSV inventory (a failed export,
  // a truncated file), which read as nothing would pass for an empty estate, exit 0.
  if (!header)
    throw new InputError(
      `${name}: no CSV header line (the file is empty): a CSV inventory starts with a header naming at least the columns id and type; an empty estate is that header alone`,
    );
}

/**
 * Columns that would write one field twice are refused, not resolved by column order: a name given
 * twice, or a field that is both a value and a parent of others (`specs` beside `specs.vcpus`). A
 * `tags` column of JSON beside `tags.KEY` columns is allowed; a row where both give one tag two values
 * is refused (see toObject).
 */
function checkHeader(header: readonly string[], where: string): void {
  const names = new Set<string>();
  for (const h of header) {
    if (h === "") continue;
    if (names.has(h)) throw new InputError(`${where}: the CSV header names the column \`${h}\` twice`);
    // A column `__proto__.x` would write into every object's prototype (the whole process's).
    if (h.split(".").includes("__proto__"))
      throw new InputError(
        `${where}: the CSV header's column \`${h}\` names \`__proto__\`, which is not a field`,
      );
    // `tags.` would make a tag with no name, `.x` a field with none.
    if (h.startsWith(".") || h.endsWith("."))
      throw new InputError(
        `${where}: the CSV header's column \`${h}\` has an empty name ${h.startsWith(".") ? "before" : "after"} its dot`,
      );
    names.add(h);
  }
  for (const h of names) {
    const dot = h.indexOf(".");
    const parent = dot < 0 ? undefined : h.slice(0, dot);
    if (parent !== undefined && parent !== "tags" && names.has(parent))
      throw new InputError(
        `${where}: the CSV header has both \`${parent}\` and \`${h}\`: a field is a value or holds others, not both`,
      );
  }
}

const DECIMAL_CELL = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

function toObject(header: readonly string[], record: readonly string[], name: string, line: number) {
  const obj: Record<string, unknown> = {};
  for (let i = 0; i < header.length; i++) {
    const key = header[i]!;
    const cell = record[i] ?? "";
    if (cell === "") continue;
    // A header's empty name (a trailing comma, as spreadsheets save) is allowed while its cells are.
    if (key === "")
      throw new InputError(
        `${name}:${line}: column ${i + 1} holds ${JSON.stringify(cell.length > 40 ? `${cell.slice(0, 39)}…` : cell)} but the header names it nothing: name the column or empty it`,
      );
    if (key === "tags") {
      // A JSON object, whose tags tags.KEY columns may add to; anything else is refused here.
      let parsed: unknown;
      try {
        parsed = JSON.parse(cell);
      } catch {
        parsed = undefined;
      }
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
        throw new InputError(`${name}:${line}: the tags column is not a JSON object`);
      const tags = (own(obj, "tags") as Record<string, unknown> | undefined) ?? {};
      for (const [k, v] of Object.entries(parsed)) {
        if (k === "__proto__")
          throw new InputError(`${name}:${line}: the tags column names \`__proto__\`, which is not a tag`);
        setOnce(tags, k, v, `tags.${k}`, name, line);
      }
      obj.tags = tags;
      continue;
    }
    let value: unknown = cell;
    if (NUMERIC.has(key)) {
      // Decimal only: Number() would also read 0x40 as 64, 0b11 as 3 and Infinity as a value.
      const n = DECIMAL_CELL.test(cell) ? Number(cell) : Number.NaN;
      if (!Number.isFinite(n))
        throw new InputError(`${name}:${line}: ${key} \`${cell}\` is not a number (decimal, e.g. 4 or 0.5)`);
      value = n;
    }
    const dot = key.indexOf(".");
    if (dot < 0) {
      obj[key] = value;
    } else {
      const head = key.slice(0, dot);
      const inner = (own(obj, head) as Record<string, unknown> | undefined) ?? {};
      setOnce(inner, key.slice(dot + 1), value, key, name, line);
      obj[head] = inner;
    }
  }
  return obj;
}

/** Sets a field a row may give twice (a tag in the tags column and its own) only if both agree. */
function setOnce(
  into: Record<string, unknown>,
  key: string,
  value: unknown,
  field: string,
  name: string,
  line: number,
): void {
  const had = own(into, key);
  if (had !== undefined && had !== value)
    throw new InputError(
      `${name}:${line}: ${field} is given twice, as \`${String(had)}\` and \`${String(value)}\` (the tags column and its own column)`,
    );
  into[key] = value;
}

/** A field the object holds itself: `constructor` and the like come from its prototype, not the row. */
function own(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** What a header lacking id or type may have instead: another separator, or the names in capitals. */
function headerHint(header: readonly string[]): string {
  if (header.length === 1) {
    const sep = [";", "\t", "|"].find((c) => header[0]!.includes(c));
    if (sep !== undefined)
      return ` (its one column, ${JSON.stringify(header[0]!.slice(0, 60))}, holds ${sep === "\t" ? "tabs" : `"${sep}"`}: costguard reads comma-separated values)`;
  }
  const folded = header.filter(
    (h) => (h.toLowerCase() === "id" || h.toLowerCase() === "type") && h !== h.toLowerCase(),
  );
  if (folded.length > 0) return ` (names are lowercase: found ${folded.join(", ")})`;
  return "";
}
