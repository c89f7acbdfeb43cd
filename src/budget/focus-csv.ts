import { InputError } from "../errors.js";
import {
  ChargeRecord,
  type ChargeSink,
  cut,
  type IngestOptions,
  type IngestReport,
  type MalformedRow,
  parseTags,
} from "./charge.js";
import { type CsvRecord, CsvScanError, CsvScanner } from "./csv-scanner.js";
import { parseCostBytes, parseCostText } from "./decimal-sums.js";
import { DIMENSION_COLUMNS, detectFocusVersion, isCustomColumn, REQUIRED_COLUMNS } from "./focus-columns.js";
import { parseTimestampBytes } from "./timestamp.js";

const NULL_BYTES = [78, 85, 76, 76]; // "NULL"

/** Reads FOCUS CSV bytes (already decompressed) from `chunks` and hands every good row to `sink`. */
export async function readFocusCsv(
  chunks: AsyncIterable<Buffer>,
  file: string,
  format: "csv" | "csv.gz",
  sink: ChargeSink,
  options: IngestOptions,
): Promise<IngestReport> {
  const maxProblems = options.maxReportedProblems ?? 100;
  const report: IngestReport = {
    file,
    format,
    focusVersion: "1.0",
    rows: 0,
    charges: 0,
    malformed: 0,
    problems: [],
    ignoredColumns: [],
    bytes: 0,
  };
  let rowReader: ((rec: CsvRecord) => void) | null = null;
  const malformed = (problem: MalformedRow) => {
    report.malformed++;
    if (options.strict) {
      throw new InputError(
        `${file}:${problem.line}: column ${problem.column}: ${problem.message}` +
          (problem.value === undefined ? "" : ` (value ${JSON.stringify(problem.value)})`) +
          " (--strict stops at the first malformed row)",
      );
    }
    if (report.problems.length < maxProblems) report.problems.push(problem);
  };
  const scanner = new CsvScanner((rec) => {
    if (rowReader === null) {
      rowReader = headerReader(rec, file, report, sink, options, malformed);
      return;
    }
    report.rows++;
    rowReader(rec);
  });
  try {
    for await (const chunk of chunks) scanner.push(chunk);
    scanner.end();
  } catch (err) {
    if (err instanceof CsvScanError) throw new InputError(`${file}:${err.line}: ${err.message}`);
    throw err;
  }
  if (rowReader === null) throw new InputError(`${file} is empty: expected a FOCUS CSV header`);
  report.bytes = scanner.bytes;
  return report;
}

function headerReader(
  header: CsvRecord,
  file: string,
  report: IngestReport,
  sink: ChargeSink,
  options: IngestOptions,
  malformed: (p: MalformedRow) => void,
): (rec: CsvRecord) => void {
  const names: string[] = [];
  for (let i = 0; i < header.count; i++)
    names.push(
      header
        .text(i)
        .replace(/^\uFEFF/, "")
        .trim(),
    );
  const index = (name: string) => names.indexOf(name);
  const needed = [...REQUIRED_COLUMNS, ...options.costColumns];
  const missing = needed.filter((c) => index(c) < 0);
  if (missing.length > 0) {
    throw new InputError(
      `${file} is not a FOCUS export: missing column${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`,
    );
  }
  report.focusVersion = detectFocusVersion(names);
  report.ignoredColumns = names.filter(isCustomColumn);

  const width = names.length;
  const iStart = index("ChargePeriodStart");
  const iEnd = index("ChargePeriodEnd");
  const iCurrency = index("BillingCurrency");
  const iCosts = options.costColumns.map(index);
  const iDims = DIMENSION_COLUMNS.map(index);
  const presentDims = iDims.filter((i) => i >= 0);
  const iTags = index("Tags");
  const record = new ChargeRecord(iCosts.length);
  let rec: CsvRecord = header;

  const isNull = (i: number): boolean => {
    const s = rec.starts[i]!;
    const e = rec.ends[i]!;
    if (s === e) return true;
    if (e - s !== 4 || rec.quoted[i] === 1) return false;
    const b = rec.buf;
    return b[s] === NULL_BYTES[0] && b[s + 1] === NULL_BYTES[1] && b[s + 2] === 76 && b[s + 3] === 76;
  };
  const textOrNull = (i: number): string | null => (i < 0 || isNull(i) ? null : rec.text(i));
  const bad = (i: number, message: string) =>
    malformed({ line: rec.line, column: names[i] ?? `#${i + 1}`, message, value: cut(rec.text(i)) });

  // Tags are parsed once per distinct text: exports repeat a few hundred tag sets millions of times.
  const tagCache = new Map<string, Record<string, string> | SyntaxError>();
  const tagsOf = (i: number): Record<string, string> | SyntaxError => {
    const key = rec.key(i);
    let tags = tagCache.get(key);
    if (tags === undefined) {
      try {
        tags = parseTags(rec.text(i));
      } catch (err) {
        tags = err instanceof SyntaxError ? err : new SyntaxError(String(err));
      }
      if (tagCache.size >= 100_000) tagCache.clear();
      tagCache.set(key, tags);
    }
    return tags;
  };
  record.dimensions = () => {
    const tags = iTags < 0 || isNull(iTags) ? {} : tagsOf(iTags);
    return {
      provider: textOrNull(iDims[0]!),
      subAccountId: textOrNull(iDims[1]!),
      subAccountName: textOrNull(iDims[2]!),
      service: textOrNull(iDims[3]!),
      regionId: textOrNull(iDims[4]!),
      regionName: textOrNull(iDims[5]!),
      tags: tags instanceof SyntaxError ? {} : tags,
    };
  };
  let lastCurrencyKey = "";
  let lastCurrency = "";

  return (r: CsvRecord) => {
    rec = r;
    if (r.errorField >= 0) {
      return bad(r.errorField, r.errorMessage);
    }
    if (r.count !== width) {
      if (r.count < width) {
        return malformed({
          line: r.line,
          column: names[r.count]!,
          message: `row has ${r.count} fields, the header ${width}: ${names[r.count]} and after are missing`,
        });
      }
      return malformed({
        line: r.line,
        column: `#${width + 1}`,
        message: `row has ${r.count} fields, the header ${width}`,
      });
    }
    const buf = r.buf;
    if (isNull(iStart)) return bad(iStart, "must not be null");
    const start = parseTimestampBytes(buf, r.starts[iStart]!, r.ends[iStart]!);
    if (Number.isNaN(start))
      return bad(iStart, "not a timestamp (YYYY-MM-DD HH:MM:SS or YYYY-MM-DDTHH:MM:SSZ, UTC)");
    let end = Number.NaN;
    if (!isNull(iEnd)) {
      end = parseTimestampBytes(buf, r.starts[iEnd]!, r.ends[iEnd]!);
      if (Number.isNaN(end))
        return bad(iEnd, "not a timestamp (YYYY-MM-DD HH:MM:SS or YYYY-MM-DDTHH:MM:SSZ, UTC)");
      if (end < start) return bad(iEnd, "ChargePeriodEnd is before ChargePeriodStart");
    }
    if (isNull(iCurrency)) return bad(iCurrency, "must not be null");
    const currencyKey = r.key(iCurrency);
    if (currencyKey !== lastCurrencyKey) {
      if (!/^[A-Z]{3}$/.test(currencyKey)) return bad(iCurrency, "not an ISO 4217 currency code");
      lastCurrencyKey = currencyKey;
      lastCurrency = currencyKey;
    }
    for (let c = 0; c < iCosts.length; c++) {
      const i = iCosts[c]!;
      if (isNull(i)) return bad(i, "must not be null");
      const cost = record.costs[c]!;
      if (!parseCostBytes(buf, r.starts[i]!, r.ends[i]!, cost)) {
        try {
          parseCostText(r.text(i), cost);
        } catch {
          return bad(i, "not a decimal number");
        }
      }
    }
    if (iTags >= 0 && !isNull(iTags)) {
      const tags = tagsOf(iTags);
      if (tags instanceof SyntaxError) return bad(iTags, `not a JSON object: ${tags.message}`);
    }
    let key = "";
    for (let d = 0; d < presentDims.length; d++) key += `${r.key(presentDims[d]!)}\u0000`;
    record.line = r.line;
    record.start = start;
    record.end = end;
    record.currency = lastCurrency;
    record.dimensionKey = key;
    report.charges++;
    sink(record);
  };
}
