import { readSync } from "node:fs";
import { MAX_LINE_CHARS } from "./text-chunks.js";

/** Bytes [start, end) of a file: whole lines (the last piece may end without a line feed). */
export interface FilePiece {
  /** 0-based position of the piece in the file. */
  index: number;
  start: number;
  end: number;
}

/**
 * Past this many bytes with no line feed, a line is longer than any the readers take (MAX_LINE_CHARS
 * characters of at most four bytes each).
 */
const MAX_LINE_BYTES = 4 * MAX_LINE_CHARS;

/**
 * Cuts a file of `size` bytes into pieces of about `pieceBytes`, each ending just after a line feed
 * (a line longer than a piece makes its piece longer), found by reading a little past each cut. A
 * line that runs more than `maxLineBytes` past a cut ends its piece there, in the middle: reading
 * that piece refuses the line, and no thread holds a whole 2 GB line (a JSON array on one line in a
 * .jsonl file) to find that out.
 */
export function* filePieces(
  fd: number,
  size: number,
  pieceBytes: number,
  maxLineBytes = MAX_LINE_BYTES,
): Generator<FilePiece> {
  const window = Buffer.allocUnsafe(64 * 1024);
  let start = 0;
  for (let index = 0; start < size; index++) {
    let end = size;
    for (let pos = start + pieceBytes; pos < size; ) {
      if (pos - (start + pieceBytes) > maxLineBytes) {
        end = pos;
        break;
      }
      const n = readSync(fd, window, 0, window.length, pos);
      if (n === 0) break;
      const nl = window.subarray(0, n).indexOf(10);
      if (nl >= 0) {
        end = pos + nl + 1;
        break;
      }
      pos += n;
    }
    yield { index, start, end };
    start = end;
  }
}

/** The bytes of a piece, read into `buffer` when it is big enough (the result is a view of it). */
export function readPiece(fd: number, piece: FilePiece, buffer?: Buffer): Buffer {
  const length = piece.end - piece.start;
  const target = buffer && buffer.length >= length ? buffer : Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, target, done, length - done, piece.start + done);
    if (n === 0)
      throw new Error(
        `the file ended early: byte ${piece.start + done} of a piece that ends at ${piece.end}`,
      );
    done += n;
  }
  return target.subarray(0, length);
}
