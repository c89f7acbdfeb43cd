import { parentPort, workerData } from "node:worker_threads";
import { createSpendAggregator } from "./aggregate.js";
import type { IngestReport } from "./charge.js";
import { fileRange } from "./file-chunks.js";
import { readFocusCsv } from "./focus-csv.js";
import type { RangeJob, RangeResult } from "./parallel-ingest.js";

/** One byte range of a FOCUS CSV, summed in its own thread (see parallel-ingest.ts). */
const job = workerData as RangeJob;
const aggregator = createSpendAggregator(job.definitions, job.at);
let end = { aligned: false, nextLine: 1 };
const range = fileRange(job.file, job.start, job.end);
let report: IngestReport;
try {
  report = await readFocusCsv(
    range.read,
    job.file,
    "csv",
    aggregator.sink,
    { ...job.options, strict: false },
    { header: job.header, startLine: 1, onEnd: (e) => (end = e) },
  );
} finally {
  range.close();
}
const result: RangeResult = { report, partial: aggregator.exportPartial(), ...end };
parentPort!.postMessage(result);
