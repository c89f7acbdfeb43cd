import { InputError } from "../errors.js";
import {
  ChargeRecord,
  type ChargeSink,
  cut,
  DuplicateTagError,
  type IngestOptions,
  type IngestReport,
  type MalformedRow,
} from "./charge.js";
import { CsvRecord, CsvScanError, CsvScanner } from "./csv-scanner.js";
import { parseCostBytes, parseCostText } from "./decimal-sums.js";
import { type DimensionEntry, DimensionInterner } from "./dimension-interner.js";
import {
  columnsNamedTwice,
  DIMENSION_COLUMNS,
  type DimensionColumn,
  detectFocusVersion,
  isCustomColumn,
  KEYABLE_COLUMNS,
  missingColumnsMessage,
  missingSelectorColumnsMessage,
  REQUIRED_COLUMNS,
} from "./focus-columns.js";
import { NOT_A_TIMESTAMP, parseTimestampInto } from "./timestamp.js";

const NULL_BYTES = [78, 85, 76, 76]; // "NULL"

/** A byte range of a CSV file read without its header (parallel ingest: src/budget/parallel-ingest.ts). */
export interface CsvRange {
  header: readonly string[];
  /** Line number of the range's first byte. */
  startLine: number;
  /** Told at the end whether the range ended on a record boundary, and the next line number. */
  onEnd: (end: { aligned: boolean; nextLine: number }) => void;
}

/**
 * Reads FOCUS CSV bytes (already decompressed) and hands every good row to `sink`. `chunks` are the bytes
 * in chunks, or a blocking reader that fills the buffer it is given and returns the byte count (0 at
 * the end): the scanner then reads straight into its own memory (CsvScanner.pushRead).
 */
export async function readFocusCsv(
  chunks: AsyncIterable<Buffer> | ((target: Buffer) => number),
  file: string,
  format: "csv" | "csv.gz",
  sink: ChargeSink,
  options: IngestOptions,
  range?: CsvRange,
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
  let rowReader: ((rec: CsvRecord) => void) | null = range
    ? headerReader([...range.header], file, report, sink, options, malformed)
    : null;
  const scanner = new CsvScanner(
    (rec) => {
      if (rowReader === null) {
        rowReader = headerReader(headerNames(rec), file, report, sink, options, malformed);
        return;
      }
      report.rows++;
      rowReader(rec);
    },
    range ? { startLine: range.startLine } : {},
  );
  try {
    if (typeof chunks === "function") while (scanner.pushRead(chunks) > 0);
    else for await (const chunk of chunks) scanner.push(chunk);
    range?.onEnd({ aligned: scanner.pendingBytes === 0, nextLine: scanner.nextLine });
    scanner.end();
  } catch (err) {
    if (err instanceof CsvScanError) throw new InputError(`${file}:${err.line}: ${err.message}`);
    throw err;
  }
  if (rowReader === null) throw new InputError(`${file} is empty: expected a FOCUS CSV header`);
  report.bytes = scanner.bytes;
  return report;
}

/** Column names of a header record (a byte-order mark and surrounding blanks removed). */
export function headerNames(header: CsvRecord): string[] {
  const names: string[] = [];
  for (let i = 0; i < header.count; i++)
    names.push(
      header
        .text(i)
        .replace(/^\uFEFF/, "")
        .trim(),
    );
  return names;
}

function headerReader(
  names: string[],
  file: string,
  report: IngestReport,
  sink: ChargeSink,
  options: IngestOptions,
  malformed: (p: MalformedRow) => void,
): (rec: CsvRecord) => void {
  const index = (name: string) => names.indexOf(name);
  const needed = [...REQUIRED_COLUMNS, ...options.costColumns];
  const missing = needed.filter((c) => index(c) < 0);
  if (missing.length > 0) {
    throw new InputError(missingColumnsMessage(file, names, missing));
  }
  const absent = (options.requiredDimensions ?? []).filter((group) => group.every((c) => index(c) < 0));
  if (absent.length > 0) throw new InputError(missingSelectorColumnsMessage(file, names, absent));
  const twice = columnsNamedTwice(names, needed);
  if (twice.length > 0)
    throw new InputError(
      `${file}: the header names the column${twice.length > 1 ? "s" : ""} ${twice.join(", ")} twice`,
    );
  report.focusVersion = detectFocusVersion(names);
  report.ignoredColumns = names.filter(isCustomColumn);

  const width = names.length;
  const iStart = index("ChargePeriodStart");
  const iEnd = index("ChargePeriodEnd");
  const iCurrency = index("BillingCurrency");
  const iCosts = options.costColumns.map(index);
  const iTags = index("Tags");
  const wanted = new Set<DimensionColumn>(options.dimensions ?? DIMENSION_COLUMNS);
  // Every dimension column the sink matches on, plus Tags always (its JSON is validated on every row).
  const keyed = KEYABLE_COLUMNS.filter((c) => index(c) >= 0 && (wanted.has(c) || c === "Tags"));
  const keyedIndex = keyed.map(index);
  const dimensions = new DimensionInterner(keyed, keyedIndex);
  let entry: DimensionEntry | null = null;
  const record = new ChargeRecord(iCosts.length);
  let rec: CsvRecord = new CsvRecord();

  const isNull = (i: number): boolean => {
    const s = rec.start(i);
    const e = rec.end(i);
    if (s === e) return true;
    if (e - s !== 4) return false;
    const b = rec.buf;
    return b[s] === NULL_BYTES[0] && b[s + 1] === NULL_BYTES[1] && b[s + 2] === 76 && b[s + 3] === 76;
  };
  const bad = (i: number, message: string) =>
    malformed({ line: rec.line, column: names[i] ?? `#${i + 1}`, message, value: cut(rec.text(i)) });
  record.dimensions = () => entry!.dimensions;
  const currencyBytes = new Uint8Array(3);
  /** ChargePeriodStart and ChargePeriodEnd of the current row (ms; end NaN when null). */
  const times = new Float64Array(2);
  let currency = "";

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
    if (!parseTimestampInto(buf, r.start(iStart), r.end(iStart), times, 0))
      return bad(iStart, NOT_A_TIMESTAMP);
    times[1] = Number.NaN;
    if (!isNull(iEnd)) {
      if (!parseTimestampInto(buf, r.start(iEnd), r.end(iEnd), times, 1)) return bad(iEnd, NOT_A_TIMESTAMP);
      if (times[1]! < times[0]!) return bad(iEnd, "ChargePeriodEnd is before ChargePeriodStart");
    }
    if (isNull(iCurrency)) return bad(iCurrency, "must not be null");
    {
      const s = r.start(iCurrency);
      if (
        r.end(iCurrency) - s !== 3 ||
        buf[s] !== currencyBytes[0] ||
        buf[s + 1] !== currencyBytes[1] ||
        buf[s + 2] !== currencyBytes[2]
      ) {
        const code = r.text(iCurrency);
        if (!/^[A-Z]{3}$/.test(code)) return bad(iCurrency, "not an ISO 4217 currency code");
        currencyBytes.set(buf.subarray(s, s + 3));
        currency = code;
      }
    }
    for (let c = 0; c < iCosts.length; c++) {
      const i = iCosts[c]!;
      if (isNull(i)) return bad(i, "must not be null");
      const cost = record.costs[c]!;
      if (!parseCostBytes(buf, r.start(i), r.end(i), cost)) {
        try {
          parseCostText(r.text(i), cost);
        } catch (err) {
          return bad(i, err instanceof RangeError ? err.message : "not a decimal number");
        }
      }
    }
    let nulls = 0;
    for (let k = 0; k < keyedIndex.length; k++) if (isNull(keyedIndex[k]!)) nulls |= 1 << k;
    entry = dimensions.intern(r, nulls);
    if (entry.tagsError !== null)
      return bad(
        iTags,
        entry.tagsError instanceof DuplicateTagError
          ? entry.tagsError.message
          : `not a JSON object: ${entry.tagsError.message}`,
      );
    record.dimensionKey = entry.id;
    record.keyEpoch = dimensions.epoch;
    record.line = r.line;
    record.start = times[0]!;
    record.end = times[1]!;
    record.currency = currency;
    report.charges++;
    sink(record);
  };
}
