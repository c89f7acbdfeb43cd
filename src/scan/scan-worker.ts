import { closeSync, openSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { judgePiece, type PieceReader, transferables } from "./judge-piece.js";
import type { PieceMessage, ScanWorkerData } from "./parallel-scan.js";
import { scanContextFromRecipe } from "./scan-recipe.js";
import { FindingKinds } from "./sql-finding-repository.js";

/**
 * One thread of a parallel scan (see parallel-scan.ts): judges the pieces of a JSON-lines file it is
 * sent, and answers each with its tally and, when asked, its findings.
 */
const data = workerData as ScanWorkerData;
const context = scanContextFromRecipe(data.recipe);
const revision = context.decider.policySet.revision;
if (revision !== data.revision)
  throw new Error(`a scan worker compiled policy revision ${revision}, the scan has ${data.revision}`);
const reader: PieceReader = { path: data.path, name: data.name };
/** The kinds this thread has sent (a worker lives for one scan). */
const kinds = new FindingKinds();

parentPort!.on("message", ({ piece, snapshot }: PieceMessage) => {
  // Opened per piece: a thread that is terminated leaves no file open behind it.
  const fd = openSync(data.path, "r");
  try {
    const outcome = judgePiece(fd, piece, reader, context, data.work, kinds, snapshot);
    parentPort!.postMessage(outcome, transferables(outcome));
  } finally {
    closeSync(fd);
  }
});
