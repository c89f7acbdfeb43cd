import { readSync } from "node:fs";

/** Bytes [start, end) of a file: whole lines (the last piece may end without a line feed). */
export interface FilePiece {
  /** 0-based position of the piece in the file. */
  index: number;
  start: number;
  end: number;
}

/**
 * Cuts a file of `size` bytes into pieces of about `pieceBytes`, each ending just after a line feed
 * (a line longer than a piece makes its piece longer), found by reading a little past each cut.
 */
export function* filePieces(fd: number, size: number, pieceBytes: number): Generator<FilePiece> {
  const window = Buffer.allocUnsafe(64 * 1024);
  let start = 0;
  for (let index = 0; start < size; index++) {
    let end = size;
    for (let pos = start + pieceBytes; pos < size; ) {
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
