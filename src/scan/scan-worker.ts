import { closeSync, openSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { readPiece } from "../inventory/file/file-pieces.js";
import { jsonLineBatches } from "../inventory/file/json-lines.js";
import { pieceLines } from "../inventory/file/text-chunks.js";
import { judgeBatch } from "./judge-batch.js";
import type { PieceJob, PieceOutcome, ScanWorkerData } from "./parallel-scan.js";
import { scanContextFromRecipe } from "./scan-recipe.js";
import { ScanTally } from "./summary.js";
import type { Finding } from "./types.js";

/**
 * One thread of a parallel scan (see parallel-scan.ts): judges the pieces of a JSON-lines file it is
 * sent, each with a tally of its own, and answers each with the tally and, when asked, its findings.
 */
const data = workerData as ScanWorkerData;
const context = scanContextFromRecipe(data.recipe);
const revision = context.decider.policySet.revision;
if (revision !== data.revision)
  throw new Error(`a scan worker compiled policy revision ${revision}, the scan has ${data.revision}`);
let buffer: Buffer | undefined;

parentPort!.on("message", (job: PieceJob) => {
  let outcome: PieceOutcome;
  try {
    const length = job.end - job.start;
    if (buffer === undefined || buffer.length < length) buffer = Buffer.allocUnsafe(length);
    // Opened per piece: a thread that is terminated has no file left open behind it.
    const fd = openSync(data.path, "r");
    let bytes: Buffer;
    try {
      bytes = readPiece(fd, job, buffer);
    } finally {
      closeSync(fd);
    }
    const tally = new ScanTally(context.currency, data.topCount);
    const findings: Finding[] | undefined = data.findings ? [] : undefined;
    let lines = 0;
    // Line numbers here count from the piece's start; a failing piece is judged again by the main
    // thread, which knows where the piece starts, for the message with the file's line number.
    for (const chunk of pieceLines(bytes, 1, job.start === 0)) {
      lines = chunk[chunk.length - 1]!.number;
      for (const batch of jsonLineBatches(chunk, data.name)) judgeBatch(batch, context, tally, findings);
    }
    outcome = { index: job.index, lines, partial: tally.partial(), findings };
  } catch (err) {
    outcome = { index: job.index, error: (err as Error).message ?? String(err) };
  }
  parentPort!.postMessage(outcome);
});
