import { createReadStream } from "node:fs";
import { parse } from "csv-parse";
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
 * hold a JSON object. Empty cells are left out. Costs stay decimal text.
 */
export async function* readCsvResources(
  path: string,
  name: string,
  onBytes?: (bytes: number) => void,
): AsyncGenerator<{ value: unknown; where: string }[]> {
  const input = path === "-" ? process.stdin : createReadStream(path, { highWaterMark: 1 << 20 });
  let bytes = 0;
  if (onBytes) input.on("data", (c: Buffer | string) => (bytes += c.length));
  const parser = input.pipe(
    parse({ bom: true, columns: false, skip_empty_lines: true, relax_column_count: false, info: true }),
  );
  let header: string[] | undefined;
  let batch: { value: unknown; where: string }[] = [];
  try {
    for await (const rec of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const { record, info } = rec;
      if (!header) {
        header = record.map((h) => h.trim());
        if (!header.includes("id") || !header.includes("type"))
          throw new InputError(`${name}:1: the CSV header needs at least the columns id and type`);
        continue;
      }
      batch.push({ value: toObject(header, record, name, info.lines), where: `${name}:${info.lines}` });
      if (batch.length >= 1000) {
        onBytes?.(bytes);
        yield batch;
        batch = [];
      }
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`${name}: not valid CSV: ${(err as Error).message}`);
  }
  onBytes?.(bytes);
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
