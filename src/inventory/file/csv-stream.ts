import { type CsvRecord, CsvScanError, CsvScanner } from "../../budget/csv-scanner.js";
import { fileChunks } from "../../budget/file-chunks.js";
import { InputError } from "../../errors.js";

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
    for (let i = 0; i < rec.count; i++) fields.push(rec.text(i));
    if (fields.length === 1 && fields[0] === "") return; // a blank line
    if (!header) {
      header = fields.map((h, i) => (i === 0 ? h.replace(/^\uFEFF/, "") : h).trim());
      if (!header.includes("id") || !header.includes("type"))
        throw new InputError(`${name}:${rec.line}: the CSV header needs at least the columns id and type`);
      return;
    }
    if (fields.length !== header.length)
      throw new InputError(
        `${name}:${rec.line}: not valid CSV: ${fields.length} fields where the header has ${header.length}`,
      );
    batch.push({ value: toObject(header, fields, name, rec.line), where: `${name}:${rec.line}` });
  });
  const chunks = path === "-" ? (process.stdin as AsyncIterable<Buffer>) : fileChunks(path);
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
}

function toObject(header: readonly string[], record: readonly string[], name: string, line: number) {
  const obj: Record<string, unknown> = {};
  for (let i = 0; i < header.length; i++) {
    const key = header[i]!;
    const cell = record[i] ?? "";
    if (cell === "") continue;
    if (key === "tags" && cell.trim().startsWith("{")) {
      try {
        obj.tags = { ...(obj.tags as object), ...(JSON.parse(cell) as object) };
      } catch {
        throw new InputError(`${name}:${line}: the tags column is not a JSON object`);
      }
      continue;
    }
    let value: unknown = cell;
    if (NUMERIC.has(key)) {
      const n = Number(cell);
      if (!Number.isFinite(n)) throw new InputError(`${name}:${line}: ${key} \`${cell}\` is not a number`);
      value = n;
    }
    const dot = key.indexOf(".");
    if (dot < 0) {
      obj[key] = value;
    } else {
      const head = key.slice(0, dot);
      const inner = (obj[head] as Record<string, unknown> | undefined) ?? {};
      inner[key.slice(dot + 1)] = value;
      obj[head] = inner;
    }
  }
  return obj;
}
