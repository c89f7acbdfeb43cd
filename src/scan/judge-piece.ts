import { exceptionIndexOf } from "../exceptions/scan-path.js";
import type { PolicyException } from "../exceptions/types.js";
import { type FilePiece, readPiece } from "../inventory/file/file-pieces.js";
import { jsonLineBatches } from "../inventory/file/json-lines.js";
import { pieceLines } from "../inventory/file/text-chunks.js";
import { exceptedByOf, type FindingsFormat, renderFindings } from "./finding-text.js";
import type { ScanContext } from "./findings.js";
import { judgeBatch } from "./judge-batch.js";
import { type FindingKinds, prepareFindings } from "./sql-finding-repository.js";
import type { PreparedFindings } from "./store.js";
import { ScanTally, type TallyPartial } from "./summary.js";
import type { Finding } from "./types.js";

const UTF8 = new TextEncoder();

/** What a piece's judge hands on besides its tally. */
export interface PieceWork {
  /** The findings as objects (for onFindings). */
  findings: boolean;
  /** The findings rendered as text in this format (for streamed output). */
  render: FindingsFormat | undefined;
  /** The findings prepared for the store's recording, batch by batch. */
  prepare: boolean;
  /**
   * Approved exceptions: the findings they cover at the scan's clock are named in `excepted`. Matched
   * here, where the resources are: an exception's selector matches tags, which no finding carries.
   */
  exceptions?: readonly PolicyException[] | undefined;
  topCount: number;
}

/** What judging a piece (or a batch) handed on. */
export interface JudgedWork {
  partial: TallyPartial;
  findings: Finding[] | undefined;
  /** The findings rendered as asked, as text or UTF-8 (a buffer moves between threads without a copy). */
  text: string | Uint8Array | undefined;
  prepared: PreparedFindings[] | undefined;
  /**
   * Findings an approved exception covers (`work.exceptions`): fingerprint, exception id and severity
   * in turn (EXCEPTED_STRIDE, as `exceptResource` names them).
   */
  excepted?: string[] | undefined;
}

/** What judging one piece of a JSON-lines file gave, or why it failed. */
export type PieceOutcome = ({ index: number; lines: number } & JudgedWork) | { index: number; error: string };

export interface PieceReader {
  path: string;
  /** How the file is named in messages (`NAME:LINE`). */
  name: string;
  /** Reused between pieces. */
  buffer?: Buffer;
}

/**
 * Reads, parses, checks and judges one piece, with a tally of its own and what `work` asks for, in file
 * order. Line numbers count from the piece's start, so an error here names the wrong line: a failing
 * piece is judged again by the scan's thread once it knows where the piece starts.
 */
export function judgePiece(
  fd: number,
  piece: FilePiece,
  reader: PieceReader,
  context: ScanContext,
  work: PieceWork,
  /** The kinds this thread has sent in the scan (see FindingKinds). */
  kinds: FindingKinds,
  /** The recording's snapshot of stored digests: findings stored unchanged get no row. */
  snapshot?: SharedArrayBuffer,
): PieceOutcome {
  try {
    const length = piece.end - piece.start;
    if (reader.buffer === undefined || reader.buffer.length < length)
      reader.buffer = Buffer.allocUnsafe(length);
    const bytes = readPiece(fd, piece, reader.buffer);
    const tally = new ScanTally(context.currency, work.topCount);
    const all: Finding[] | undefined = work.findings ? [] : undefined;
    // Rendered and prepared batch by batch: findings that only become text or rows die young, as in
    // a single-threaded scan.
    const text: Uint8Array[] = [];
    const prepared: PreparedFindings[] | undefined = work.prepare ? [] : undefined;
    const exceptions = work.exceptions?.length ? exceptionIndexOf(work.exceptions) : undefined;
    const excepted: string[] | undefined = exceptions ? [] : undefined;
    let lines = 0;
    for (const chunk of pieceLines(bytes, 1, piece.start === 0, reader.name)) {
      lines = chunk[chunk.length - 1]!.number;
      for (const batch of jsonLineBatches(chunk, reader.name)) {
        // Findings are made only for what asks for them: a count needs none.
        const out: Finding[] | undefined = work.render || prepared || all ? [] : undefined;
        const from = excepted?.length ?? 0;
        judgeBatch(
          batch,
          context,
          tally,
          out,
          exceptions && { index: exceptions, now: context.at, out: excepted! },
        );
        if (out === undefined || out.length === 0) continue;
        if (work.render)
          text.push(UTF8.encode(renderFindings(work.render, out, exceptedByOf(excepted, from))));
        prepared?.push(prepareFindings(out, kinds, snapshot));
        if (all) for (const f of out) all.push(f);
      }
    }
    return {
      index: piece.index,
      lines,
      partial: tally.partial(),
      findings: all,
      text: text.length > 0 ? concat(text) : undefined,
      prepared,
      excepted,
    };
  } catch (err) {
    return { index: piece.index, error: (err as Error).message ?? String(err) };
  }
}

/** One batch judged on the scan's thread, handing on what `work` asks for. */
export function judgeBatchWork(
  batch: Parameters<typeof judgeBatch>[0],
  context: ScanContext,
  work: PieceWork,
  kinds: FindingKinds,
): JudgedWork {
  const tally = new ScanTally(context.currency, work.topCount);
  const out: Finding[] = [];
  const exceptions = work.exceptions?.length ? exceptionIndexOf(work.exceptions) : undefined;
  const excepted: string[] | undefined = exceptions ? [] : undefined;
  judgeBatch(
    batch,
    context,
    tally,
    work.render || work.prepare || work.findings ? out : undefined,
    exceptions && { index: exceptions, now: context.at, out: excepted! },
  );
  const some = out.length > 0;
  return {
    partial: tally.partial(),
    findings: work.findings ? out : undefined,
    text: work.render && some ? renderFindings(work.render, out, exceptedByOf(excepted)) : undefined,
    prepared: work.prepare && some ? [prepareFindings(out, kinds)] : undefined,
    excepted,
  };
}

/** The buffers of an outcome, to be moved to another thread rather than copied. */
export function transferables(outcome: PieceOutcome): ArrayBuffer[] {
  if ("error" in outcome) return [];
  const out: ArrayBuffer[] = [];
  if (outcome.text instanceof Uint8Array) out.push(outcome.text.buffer as ArrayBuffer);
  for (const p of outcome.prepared ?? [])
    for (const a of [p.fingerprintEnds, p.keys, p.keyed, p.lanes, p.rows, p.rowStarts])
      out.push(a.buffer as ArrayBuffer);
  return out;
}

/** One buffer of its own (not a slice of a shared pool: it is handed to another thread). */
function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
