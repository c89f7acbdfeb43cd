import { type FilePiece, readPiece } from "../inventory/file/file-pieces.js";
import { jsonLineBatches } from "../inventory/file/json-lines.js";
import { pieceLines } from "../inventory/file/text-chunks.js";
import { type FindingsFormat, renderFindings } from "./finding-text.js";
import type { ScanContext } from "./findings.js";
import { judgeBatch } from "./judge-batch.js";
import { ScanTally, type TallyPartial } from "./summary.js";
import type { Finding } from "./types.js";

const UTF8 = new TextEncoder();

/** What judging one piece of a JSON-lines file gave: its tally (and findings), or why it failed. */
export type PieceOutcome =
  | {
      index: number;
      lines: number;
      partial: TallyPartial;
      findings: Finding[] | undefined;
      /** The findings rendered as asked, as UTF-8 (a buffer moves between threads without a copy). */
      text: Uint8Array | undefined;
    }
  | { index: number; error: string };

export interface PieceReader {
  path: string;
  /** How the file is named in messages (`NAME:LINE`). */
  name: string;
  /** Reused between pieces. */
  buffer?: Buffer;
}

/**
 * Reads, parses, checks and judges one piece, with a tally of its own and (when `findings`) its
 * findings in file order. Line numbers count from the piece's start, so an error here names the wrong
 * line: a failing piece is judged again by the scan's thread once it knows where the piece starts.
 */
export function judgePiece(
  fd: number,
  piece: FilePiece,
  reader: PieceReader,
  context: ScanContext,
  findings: boolean,
  render: FindingsFormat | undefined,
  topCount: number,
): PieceOutcome {
  try {
    const length = piece.end - piece.start;
    if (reader.buffer === undefined || reader.buffer.length < length)
      reader.buffer = Buffer.allocUnsafe(length);
    const bytes = readPiece(fd, piece, reader.buffer);
    const tally = new ScanTally(context.currency, topCount);
    const all: Finding[] | undefined = findings ? [] : undefined;
    // Rendered batch by batch: findings that only become text die young, as in a single-threaded scan.
    const text: Uint8Array[] = [];
    let lines = 0;
    for (const chunk of pieceLines(bytes, 1, piece.start === 0)) {
      lines = chunk[chunk.length - 1]!.number;
      for (const batch of jsonLineBatches(chunk, reader.name)) {
        const out: Finding[] | undefined = render ? [] : all;
        judgeBatch(batch, context, tally, out);
        if (render && out!.length > 0) {
          text.push(UTF8.encode(renderFindings(render, out!)));
          if (all) for (const f of out!) all.push(f);
        }
      }
    }
    return {
      index: piece.index,
      lines,
      partial: tally.partial(),
      findings: all,
      text: text.length > 0 ? concat(text) : undefined,
    };
  } catch (err) {
    return { index: piece.index, error: (err as Error).message ?? String(err) };
  }
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
