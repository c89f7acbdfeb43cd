import { type FilePiece, readPiece } from "../inventory/file/file-pieces.js";
import { jsonLineBatches } from "../inventory/file/json-lines.js";
import { pieceLines } from "../inventory/file/text-chunks.js";
import { type FindingsFormat, renderFindings } from "./finding-text.js";
import type { ScanContext } from "./findings.js";
import { judgeBatch } from "./judge-batch.js";
import { ScanTally, type TallyPartial } from "./summary.js";
import type { Finding } from "./types.js";

/** What judging one piece of a JSON-lines file gave: its tally (and findings), or why it failed. */
export type PieceOutcome =
  | { index: number; lines: number; partial: TallyPartial; findings: Finding[] | undefined; text: string }
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
    const out: Finding[] | undefined = findings || render ? [] : undefined;
    let lines = 0;
    for (const chunk of pieceLines(bytes, 1, piece.start === 0)) {
      lines = chunk[chunk.length - 1]!.number;
      for (const batch of jsonLineBatches(chunk, reader.name)) judgeBatch(batch, context, tally, out);
    }
    return {
      index: piece.index,
      lines,
      partial: tally.partial(),
      findings: findings ? out : undefined,
      text: render && out!.length > 0 ? renderFindings(render, out!) : "",
    };
  } catch (err) {
    return { index: piece.index, error: (err as Error).message ?? String(err) };
  }
}
