import { closeSync, fstatSync, openSync } from "node:fs";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { type FilePiece, filePieces, readPiece } from "../inventory/file/file-pieces.js";
import { jsonLineBatches } from "../inventory/file/json-lines.js";
import { fileInventoryName } from "../inventory/file/name.js";
import { pieceLines } from "../inventory/file/text-chunks.js";
import type { InventoryProgress } from "../inventory/types.js";
import type { ScanContext } from "./findings.js";
import {
  type JudgedWork,
  judgeBatchWork,
  judgePiece,
  type PieceOutcome,
  type PieceReader,
  type PieceWork,
} from "./judge-piece.js";
import type { ScanRecipe } from "./scan-recipe.js";
import { FindingKinds } from "./sql-finding-repository.js";

// From dist/ the worker is JavaScript; from src/ (tests under tsx) TypeScript, through tsx's loader.
const WORKER_URL = new URL(
  import.meta.url.endsWith(".ts") ? "./scan-worker.ts" : "./scan-worker.js",
  import.meta.url,
);

/** Bytes per piece of the file a worker judges at a time. */
export const PIECE_BYTES = 4 * 1024 * 1024;
/**
 * Files smaller than this are scanned on the main thread: starting workers (their threads, module
 * loading and JIT warm-up, ~0.3 s) costs more than they save. Measured on 2 cores (docs/scan.md,
 * "When threads pay"): a stored rescan breaks even at 64 MB and gains above it; a scan that stores
 * nothing gains from ~160 MB; at 16–64 MB every kind of scan was faster on one thread.
 */
export const PARALLEL_MIN_BYTES = 64 * 1024 * 1024;
const MAX_AUTO_JOBS = 8;
/** The most threads `--jobs` may ask for. */
export const MAX_JOBS = 64;
/**
 * Pieces a worker holds at once: one it judges, three waiting, so it never idles between pieces while
 * this thread judges a piece of its own or records one before it reads the worker's answer. (Two
 * starved the worker during a stored rescan, whose recording thread is busiest: 7.3 s → 6.3–6.8 s for
 * a million resources; eight gave nothing more.)
 */
const PER_WORKER = 4;

/** What `--jobs auto` means for a file of `size` bytes: a worker per core, none for a small file. */
export function autoJobs(size: number): number {
  if (size < PARALLEL_MIN_BYTES) return 1;
  return Math.max(1, Math.min(availableParallelism(), MAX_AUTO_JOBS));
}

/** A piece of the inventory judged elsewhere: its tally and what `JudgeOptions` asked for, in order. */
export interface JudgedPiece extends JudgedWork {
  /**
   * The piece judged again on this thread with every row prepared (no snapshot), for a recording
   * that needs a row a worker skipped; only until the next piece is asked for.
   */
  rejudge?: () => JudgedWork;
}

export interface JudgeOptions extends PieceWork {
  /** The scan's own context: a piece that failed in a worker is judged again with it. */
  context: ScanContext;
  onProgress?: (p: InventoryProgress) => void;
  /**
   * The recording's snapshot of stored digests (`ScanRecording.snapshot`), once it is known: pieces
   * judged after it is set prepare no rows for findings stored unchanged.
   */
  known?: KnownState;
}

/** What the recording knows, as the threads judging pieces see it. */
export interface KnownState {
  snapshot?: SharedArrayBuffer | undefined;
  /**
   * True while the store loads what it knows (on its own thread): this thread then judges no piece
   * itself and leaves the cores to the workers and the loading, whose end it would otherwise delay
   * (and the pieces it judged meanwhile would prepare every row, the snapshot not being there yet).
   */
  loading?: boolean;
}

/** A piece as a worker is sent it, with the snapshot of stored digests when there is one. */
export interface PieceMessage {
  piece: FilePiece;
  snapshot: SharedArrayBuffer | undefined;
}

/** An inventory whose resources are judged as they are read, in inventory order. */
export interface JudgedInventory {
  readonly name: string;
  judge(options: JudgeOptions): AsyncIterable<JudgedPiece>;
}

export interface ScanWorkerData {
  path: string;
  name: string;
  recipe: ScanRecipe;
  /** The main thread's compiled policy revision: a worker that compiles another one stops. */
  revision: string;
  work: PieceWork;
}

export interface ParallelJsonLinesOptions {
  path: string;
  /** How the file is named in messages and the scan history (`file:NAME`). */
  name: string;
  jobs: number;
  recipe: ScanRecipe;
  pieceBytes?: number;
}

/**
 * A JSON-lines file judged by `jobs` threads: this one and `jobs - 1` workers. The file is cut into
 * pieces at line feeds; a thread parses, checks and judges whole pieces, and the pieces are handed on
 * in file order (so findings stream out, and are stored, in the order a single thread gives). This
 * thread judges a piece itself only when it has nothing to hand on, so it stays free for the output and
 * the store when they are busy. At most a few pieces per thread are in flight: memory stays flat
 * however large the file.
 *
 * A piece that fails (a bad line) is judged again batch by batch once its first line number is known:
 * what comes out before the error, and the error itself, are those of a single-threaded scan.
 */
export function parallelJsonLines(options: ParallelJsonLinesOptions): JudgedInventory {
  const { path, name, jobs } = options;
  const pieceBytes = options.pieceBytes ?? PIECE_BYTES;
  return {
    name: fileInventoryName(name),
    async *judge({ context, onProgress, known, ...work }) {
      const fd = openSync(path, "r");
      const size = fstatSync(fd).size;
      /** The kinds this thread has sent in this scan (each worker has its own). */
      const kinds = new FindingKinds();
      const pieces = filePieces(fd, size, pieceBytes);
      const issuedPieces = new Map<number, FilePiece>();
      const outcomes = new Map<number, PieceOutcome>();
      // Pieces judged and not yet handed on, at most: room for this thread to judge well ahead
      // while it waits for a worker's piece (outcomes of a rescan are small; of a first scan a few MB).
      const window = jobs * PER_WORKER * 4;
      let issued = 0;
      let next = 0;
      let exhausted = false;
      let failure: Error | undefined;
      let stopping = false;
      let wake: (() => void) | undefined;
      const notify = () => {
        const w = wake;
        wake = undefined;
        w?.();
      };
      const take = (): FilePiece | undefined => {
        if (exhausted || issued - next >= window) return undefined;
        const it = pieces.next();
        if (it.done) {
          exhausted = true;
          return undefined;
        }
        issuedPieces.set(it.value.index, it.value);
        issued++;
        return it.value;
      };

      const data: ScanWorkerData = {
        path,
        name,
        // The inventory, clock, detectors and currency of the scan's own context (a caller may have
        // moved its clock; the scan names the inventory).
        recipe: {
          ...options.recipe,
          inventory: context.inventory,
          at: context.at,
          detectors: context.detectors,
          currency: context.currency,
        },
        revision: context.decider.policySet.revision,
        work,
      };
      const pool = Array.from({ length: jobs - 1 }, () => ({ worker: startWorker(data), held: 0 }));
      const feed = (p: (typeof pool)[number]) => {
        while (p.held < PER_WORKER) {
          const piece = take();
          if (piece === undefined) return;
          p.held++;
          p.worker.postMessage({ piece, snapshot: known?.snapshot } satisfies PieceMessage);
        }
      };
      for (const p of pool) {
        p.worker.on("message", (m: PieceOutcome) => {
          p.held--;
          outcomes.set(m.index, m);
          feed(p);
          notify();
        });
        p.worker.on("error", (err) => {
          failure ??= err;
          notify();
        });
        p.worker.on("exit", (code) => {
          if (!stopping) failure ??= new Error(`a scan worker thread stopped (exit code ${code})`);
          notify();
        });
      }

      const reader: PieceReader = { path, name };
      try {
        for (const p of pool) feed(p);
        let firstLine = 1;
        let resources = 0;
        while (!(exhausted && next === issued)) {
          let outcome = outcomes.get(next);
          while (outcome === undefined) {
            if (failure) throw failure;
            // Nothing to hand on yet: judge a piece here, then let the workers' answers in.
            const piece = known?.loading && pool.length > 0 ? undefined : take();
            if (piece !== undefined) {
              outcomes.set(piece.index, judgePiece(fd, piece, reader, context, work, kinds, known?.snapshot));
              await new Promise((resolve) => setImmediate(resolve));
            } else {
              await new Promise<void>((resolve) => {
                wake = resolve;
              });
            }
            outcome = outcomes.get(next);
          }
          outcomes.delete(next);
          const piece = issuedPieces.get(next)!;
          issuedPieces.delete(next);
          next++;
          for (const p of pool) feed(p);
          if ("error" in outcome) {
            yield* judgeHere(fd, piece, firstLine, name, context, work, kinds);
            throw new Error(`judging bytes ${piece.start}-${piece.end} of ${name} failed: ${outcome.error}`);
          }
          firstLine += outcome.lines;
          resources += outcome.partial.resources;
          const judged: JudgedPiece = outcome;
          if (work.prepare)
            judged.rejudge = () =>
              judgePiece(fd, piece, reader, context, work, kinds, undefined) as JudgedWork;
          yield judged;
          onProgress?.({ resources, done: piece.end, total: size });
        }
      } finally {
        stopping = true;
        await Promise.all(pool.map((p) => p.worker.terminate()));
        closeSync(fd);
      }
    },
  };
}

/** A piece judged on this thread, batch by batch, as a single-threaded scan reads it. */
function* judgeHere(
  fd: number,
  piece: FilePiece,
  firstLine: number,
  name: string,
  context: ScanContext,
  work: PieceWork,
  kinds: FindingKinds,
): Generator<JudgedPiece> {
  for (const lines of pieceLines(readPiece(fd, piece), firstLine, piece.start === 0, name)) {
    for (const batch of jsonLineBatches(lines, name)) yield judgeBatchWork(batch, context, work, kinds);
  }
}

function startWorker(data: ScanWorkerData): Worker {
  if (WORKER_URL.pathname.endsWith(".ts")) {
    // Running from source (tests under tsx): register tsx's loader in the worker, then load the worker.
    return new Worker(
      `(async () => { (await import("tsx/esm/api")).register(); await import(${JSON.stringify(WORKER_URL.href)}); })()`,
      { eval: true, workerData: data },
    );
  }
  // Plain JavaScript: the parent's loader hooks (`--import`, an APM agent, tsx) would only add start-up
  // time to every worker, so none are passed on.
  return new Worker(WORKER_URL, { workerData: data, execArgv: [] });
}
