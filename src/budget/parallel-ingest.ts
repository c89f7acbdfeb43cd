import { open } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { InputError } from "../errors.js";
import { createSpendAggregator, type PartialSpend, type SpendAggregator } from "./aggregate.js";
import type { IngestOptions, IngestReport } from "./charge.js";
import { CsvScanner } from "./csv-scanner.js";
import type { BudgetDefinition } from "./definitions.js";
import { detectFocusVersion, isCustomColumn } from "./focus-columns.js";
import { headerNames } from "./focus-csv.js";

// From dist/ the worker is JavaScript; from src/ (tests under tsx, whose loader workers inherit) TypeScript.
const WORKER_URL = new URL(
  import.meta.url.endsWith(".ts") ? "./ingest-worker.ts" : "./ingest-worker.js",
  import.meta.url,
);

/** Plain CSV files at least this big are split across threads. */
export const PARALLEL_MIN_BYTES = 64 * 1024 * 1024;

export interface RangeJob {
  file: string;
  start: number;
  end: number;
  header: string[];
  definitions: BudgetDefinition[];
  at: number;
  options: IngestOptions;
}

export interface RangeResult {
  report: IngestReport;
  partial: PartialSpend;
  /** The range ended on a record boundary (so the next range began on one). */
  aligned: boolean;
  /** Relative line number after the range (lines consumed + 1). */
  nextLine: number;
}

/** How many threads to use for a file of `size` bytes (1: do not split). */
export function threadsFor(size: number): number {
  if (size < PARALLEL_MIN_BYTES) return 1;
  return Math.max(1, Math.min(availableParallelism(), 8, Math.floor(size / (PARALLEL_MIN_BYTES / 2))));
}

/**
 * Sums a plain FOCUS CSV in `threads` byte ranges at once, split at line feeds. A split inside a quoted
 * field (a line feed in a description) is detected — the range before it does not end on a record
 * boundary — and then the caller reads the file in one pass instead: returns null.
 * Line numbers in problems are those of the whole file; the sums are exact whatever the split.
 */
export async function ingestCsvInParallel(
  file: string,
  definitions: readonly BudgetDefinition[],
  at: number,
  options: IngestOptions,
  threads: number,
): Promise<{ aggregator: SpendAggregator; report: IngestReport } | null> {
  const handle = await open(file, "r");
  let header: { names: string[]; end: number; lines: number };
  const bounds: number[] = [];
  let size: number;
  try {
    size = (await handle.stat()).size;
    header = await readHeader(handle, file);
    bounds.push(header.end);
    for (let i = 1; i < threads; i++) {
      const at = await nextLineStart(
        handle,
        header.end + Math.floor(((size - header.end) * i) / threads),
        size,
      );
      if (at > bounds.at(-1)! && at < size) bounds.push(at);
    }
    bounds.push(size);
  } finally {
    await handle.close();
  }
  const jobs: RangeJob[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    jobs.push({
      file,
      start: bounds[i]!,
      end: bounds[i + 1]!,
      header: header.names,
      definitions: [...definitions],
      at,
      options: { ...options, strict: false },
    });
  }
  const results = await Promise.all(jobs.map(runJob));
  if (results.slice(0, -1).some((r) => !r.aligned)) return null;

  const aggregator = createSpendAggregator(definitions, at);
  const maxProblems = options.maxReportedProblems ?? 100;
  const report: IngestReport = {
    file,
    format: "csv",
    focusVersion: detectFocusVersion(header.names),
    rows: 0,
    charges: 0,
    malformed: 0,
    problems: [],
    ignoredColumns: header.names.filter(isCustomColumn),
    bytes: size,
  };
  let lineOffset = header.lines;
  for (const r of results) {
    aggregator.absorb(r.partial);
    report.rows += r.report.rows;
    report.charges += r.report.charges;
    report.malformed += r.report.malformed;
    for (const p of r.report.problems) {
      if (report.problems.length < maxProblems) report.problems.push({ ...p, line: p.line + lineOffset });
    }
    lineOffset += r.nextLine - 1;
  }
  const first = report.problems[0];
  if (options.strict && first) {
    throw new InputError(
      `${file}:${first.line}: column ${first.column}: ${first.message}` +
        (first.value === undefined ? "" : ` (value ${JSON.stringify(first.value)})`) +
        " (--strict stops at the first malformed row)",
    );
  }
  return { aggregator, report };
}

function runJob(job: RangeJob): Promise<RangeResult> {
  return new Promise((resolve, reject) => {
    const worker = WORKER_URL.pathname.endsWith(".ts")
      ? // Running from source (tests under tsx): register tsx's loader in the worker, then load the worker.
        new Worker(
          `(async () => { (await import("tsx/esm/api")).register(); await import(${JSON.stringify(WORKER_URL.href)}); })()`,
          { eval: true, workerData: job },
        )
      : // Plain JavaScript with only node: imports: the parent's loader hooks (`--import`, `--require`,
        // say an APM agent or tsx) would only add start-up time to every worker, so none are passed on.
        new Worker(WORKER_URL, { workerData: job, execArgv: [] });
    let result: RangeResult | undefined;
    worker.once("message", (m: RangeResult) => {
      result = m;
    });
    // A worker's error arrives as a copy: an InputError there (a bad row, a header without a column
    // the budgets need) is known by its name, and is bad input here too.
    worker.once("error", (err) =>
      reject(
        err instanceof Error && (err.name === "InputError" || /^\S+:\d+: /.test(err.message))
          ? new InputError(err.message)
          : err,
      ),
    );
    worker.once("exit", (code) => {
      if (result) resolve(result);
      else
        reject(
          new Error(
            `ingest worker for bytes ${job.start}-${job.end} of ${job.file} exited with code ${code}`,
          ),
        );
    });
  });
}

/** The header record: its column names, the byte offset after it, and how many lines it spans. */
async function readHeader(
  handle: Awaited<ReturnType<typeof open>>,
  file: string,
): Promise<{ names: string[]; end: number; lines: number }> {
  const chunk = Buffer.alloc(1024 * 1024);
  const { bytesRead } = await handle.read(chunk, 0, chunk.length, 0);
  const bytes = chunk.subarray(0, bytesRead);
  let inQuote = false;
  let end = -1;
  let lines = 1;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (c === 34) inQuote = !inQuote;
    else if (c === 10) {
      if (!inQuote) {
        end = i + 1;
        break;
      }
      lines++;
    }
  }
  if (end < 0) throw new InputError(`${file}: no header line in the first MiB`);
  let names: string[] = [];
  const scanner = new CsvScanner((rec) => {
    if (names.length === 0) names = headerNames(rec);
  });
  scanner.push(Buffer.from(bytes.subarray(0, end)));
  scanner.end();
  return { names, end, lines };
}

/** The offset just after the first line feed at or after `from` (or `size`). */
async function nextLineStart(
  handle: Awaited<ReturnType<typeof open>>,
  from: number,
  size: number,
): Promise<number> {
  const window = Buffer.alloc(64 * 1024);
  let pos = from;
  while (pos < size) {
    const { bytesRead } = await handle.read(window, 0, window.length, pos);
    if (bytesRead === 0) break;
    const i = window.subarray(0, bytesRead).indexOf(10);
    if (i >= 0) return pos + i + 1;
    pos += bytesRead;
  }
  return size;
}
