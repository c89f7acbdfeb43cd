import { isAscii } from "node:buffer";
import { statSync } from "node:fs";
import { open } from "node:fs/promises";
import { StringDecoder } from "node:string_decoder";
import { InputError } from "../../errors.js";

export interface TextChunk {
  text: string;
  /** Bytes of the source read so far. */
  bytes: number;
}

/** Bytes read from a file per system call. */
const READ_SIZE = 1 << 20;
/**
 * Bytes per text chunk. Chunks stay under V8's large-object size (128 KiB), so each one and the
 * lines sliced from it are young objects the scavenger frees cheaply; 1 MiB strings live in
 * large-object space, and allocating hundreds of them drives full garbage collections.
 */
const TEXT_SIZE = 1 << 16;

/** Reads a file (or stdin for `-`) as UTF-8 text chunks of at most 64 KiB, with byte progress. */
export async function* readTextChunks(path: string): AsyncGenerator<TextChunk> {
  const decoder = chunkDecoder(true);
  let bytes = 0;
  for await (const chunk of bufferChunks(path)) {
    for (let start = 0; start < chunk.length; start += TEXT_SIZE) {
      const piece = chunk.subarray(start, Math.min(chunk.length, start + TEXT_SIZE));
      bytes += piece.length;
      const text = decoder.write(piece);
      if (text !== "") yield { text, bytes };
    }
  }
  const rest = decoder.end();
  if (rest !== "") yield { text: rest, bytes };
}

/**
 * Turns bytes into text, chunk by chunk. A chunk that is pure ASCII (most inventories are) is decoded
 * as Latin-1, which gives the same text several times faster than the UTF-8 decoder; any other chunk
 * goes through the UTF-8 decoder, which carries multi-byte characters split across chunks.
 * `atFileStart`: the first chunk is the start of a file, where a byte-order mark is dropped.
 */
function chunkDecoder(atFileStart: boolean): { write(piece: Buffer): string; end(): string } {
  const decoder = new StringDecoder("utf8");
  let decoderUsed = false;
  let first = atFileStart;
  return {
    write(piece) {
      let text: string;
      if (isAscii(piece)) {
        // Bytes the decoder still holds cannot continue into ASCII: end() turns them into U+FFFD, as
        // writing this piece to the decoder would have.
        text = decoderUsed ? decoder.end() + piece.toString("latin1") : piece.toString("latin1");
        decoderUsed = false;
      } else {
        text = decoder.write(piece);
        decoderUsed = true;
      }
      if (first && text !== "") {
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte-order mark
        first = false;
      }
      return text;
    },
    end: () => decoder.end(),
  };
}

/**
 * The raw bytes of a file, read in 1 MiB calls into one reused buffer (each chunk is only valid
 * until the next one is asked for), or of stdin as it arrives.
 */
async function* bufferChunks(path: string): AsyncGenerator<Buffer> {
  if (path === "-") {
    yield* process.stdin as AsyncIterable<Buffer>;
    return;
  }
  const file = await open(path, "r");
  try {
    const buffer = Buffer.allocUnsafe(READ_SIZE);
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, READ_SIZE, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await file.close();
  }
}

export function fileSize(path: string): number | undefined {
  if (path === "-") return undefined;
  return statSync(path).size;
}

export interface Line {
  text: string;
  /** 1-based line number. */
  number: number;
}

/**
 * Splits text chunks into lines without copying the file into memory; yields arrays of lines
 * (one array per chunk) so callers pay one async step per chunk, not per line.
 */
export async function* readLines(
  path: string,
  name: string,
  onBytes?: (bytes: number) => void,
): AsyncGenerator<Line[]> {
  const splitter = lineSplitter(1, name);
  for await (const { text, bytes } of readTextChunks(path)) {
    const lines = splitter.push(text);
    onBytes?.(bytes);
    if (lines.length > 0) yield lines;
  }
  const last = splitter.end();
  if (last.length > 0) yield last;
}

/**
 * The lines of one piece of a file (bytes that start at a line start and end after a line feed, or
 * at the end of the file), numbered from `firstLine`, one array per 64 KiB of text. The same text
 * and numbers as `readLines` gives for those lines of the whole file.
 */
export function* pieceLines(
  bytes: Buffer,
  firstLine: number,
  atFileStart: boolean,
  name: string,
): Generator<Line[]> {
  const decoder = chunkDecoder(atFileStart);
  const splitter = lineSplitter(firstLine, name);
  for (let start = 0; start < bytes.length; start += TEXT_SIZE) {
    const lines = splitter.push(
      decoder.write(bytes.subarray(start, Math.min(bytes.length, start + TEXT_SIZE))),
    );
    if (lines.length > 0) yield lines;
  }
  const rest = decoder.end();
  const lines = rest === "" ? [] : splitter.push(rest);
  const last = splitter.end();
  if (lines.length + last.length > 0) yield lines.concat(last);
}

/**
 * The longest line read: far more than any one record needs (a resource is a few hundred bytes, a
 * request with every tag AWS allows ~20 KB), and far less than V8's longest string (2^29 characters),
 * past which a line cannot be held at all.
 */
export const MAX_LINE_CHARS = 64 * 1024 * 1024;

/**
 * Cuts text chunks into numbered lines; a line's end may come in a later chunk. A line longer than
 * `MAX_LINE_CHARS` is refused as it grows, named `name:LINE`.
 */
function lineSplitter(firstLine: number, name: string): { push(text: string): Line[]; end(): Line[] } {
  let carry = "";
  let number = firstLine - 1;
  return {
    push(text) {
      const lines: Line[] = [];
      let start = 0;
      let nl = text.indexOf("\n");
      if (nl < 0) {
        if (carry.length + text.length > MAX_LINE_CHARS) throw lineTooLong(name, number + 1, carry);
        carry += text;
        return lines;
      }
      if (carry.length + nl > MAX_LINE_CHARS) throw lineTooLong(name, number + 1, carry);
      lines.push({ text: stripCr(carry + text.slice(0, nl)), number: ++number });
      carry = "";
      start = nl + 1;
      nl = text.indexOf("\n", start);
      while (nl >= 0) {
        lines.push({ text: stripCr(text.slice(start, nl)), number: ++number });
        start = nl + 1;
        nl = text.indexOf("\n", start);
      }
      carry = text.slice(start);
      return lines;
    },
    end() {
      if (carry === "") return [];
      const last = [{ text: stripCr(carry), number: ++number }];
      carry = "";
      return last;
    },
  };
}

function lineTooLong(name: string, line: number, start: string): InputError {
  const array = start.trimStart().startsWith("[")
    ? "; it starts with [: a JSON array on one line belongs in a file named .json, read as an array"
    : "";
  return new InputError(
    `${name}:${line}: the line is longer than ${MAX_LINE_CHARS / (1024 * 1024)} MiB, more than any one record needs: not read${array}`,
  );
}

function stripCr(line: string): string {
  return line.length > 0 && line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line;
}
