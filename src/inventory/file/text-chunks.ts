import { isAscii } from "node:buffer";
import { InputError } from "../../errors.js";
import { inventoryBytes } from "./input-bytes.js";

export interface TextChunk {
  text: string;
  /** Bytes of the source read so far. */
  bytes: number;
}

/**
 * Bytes per text chunk. Chunks stay under V8's large-object size (128 KiB), so each one and the
 * lines sliced from it are young objects the scavenger frees cheaply; 1 MiB strings live in
 * large-object space, and allocating hundreds of them drives full garbage collections.
 */
const TEXT_SIZE = 1 << 16;

/**
 * Reads a file, a pipe (or stdin for `-`), or raw bytes as they come, as UTF-8 text chunks of at most
 * 64 KiB, with byte progress (of the text: a gzip file's are more than its size). A path is read by
 * `inventoryBytes`; raw bytes are decoded as they are. Bytes that are not UTF-8 stop it with a
 * NotUtf8Error (which the reader that counts lines names a line by). `name` names the file in errors.
 */
export async function* readTextChunks(source: ByteSource, name: string): AsyncGenerator<TextChunk> {
  const decoder = chunkDecoder(true);
  let bytes = 0;
  const chunks = typeof source === "string" ? inventoryBytes(source, name) : source;
  for await (const chunk of chunks) {
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
 * Bytes that are not UTF-8 text (a Latin-1 or Windows-1252 export, a damaged file), with the text of
 * the chunk before them, so a reader that counts lines can name the line: `at(name, line)`. Nothing
 * is read past them: a replacement character would otherwise stand in for the bytes unseen, in ids,
 * names and tags that then no longer match what the cloud holds.
 */
export class NotUtf8Error extends InputError {
  constructor(
    /** The chunk's text before the bytes. */
    readonly textBefore: string,
    /** The bytes, as hex (`e9 74`): up to four of them; empty when the file ends inside a character. */
    readonly bytesHex: string,
  ) {
    super(notUtf8Message("the file", bytesHex));
  }

  /** The error naming the line the bytes are on (the first line of the chunk + lines before them). */
  at(name: string, chunkLine: number): InputError {
    const line = chunkLine + positionIn(this.textBefore, this.textBefore.length).feeds;
    return new InputError(`${name}:${line}: ${notUtf8Message("the line", this.bytesHex)}`);
  }
}

/**
 * Where offset `at` of a text is, for messages that name a file's line (and column) from a piece of
 * it: how many line feeds come before it, and where its line starts.
 */
export function positionIn(text: string, at: number): { feeds: number; lineStart: number } {
  let feeds = 0;
  let lineStart = 0;
  for (let i = text.indexOf("\n"); i >= 0 && i < at; i = text.indexOf("\n", i + 1)) {
    feeds++;
    lineStart = i + 1;
  }
  return { feeds, lineStart };
}

function notUtf8Message(what: string, bytesHex: string): string {
  const bytes = bytesHex === "" ? "the file ends inside a character" : `bytes ${bytesHex}`;
  return `${what} is not UTF-8 text (${bytes}): inventories are UTF-8; convert the file (iconv -f WINDOWS-1252 -t UTF-8, say, for a spreadsheet's export) or mend the damaged bytes`;
}

/**
 * Turns bytes into text, chunk by chunk. A chunk that is pure ASCII (most inventories are) is decoded
 * as Latin-1, which gives the same text several times faster than the UTF-8 decoder; any other chunk
 * goes through a strict UTF-8 decoder, which carries multi-byte characters split across chunks and
 * throws NotUtf8Error at bytes that are not UTF-8 (never a silent replacement character).
 * `atFileStart`: the first chunk is the start of a file, where a byte-order mark is dropped.
 */
function chunkDecoder(atFileStart: boolean): { write(piece: Buffer): string; end(): string } {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  let decoderUsed = false;
  let first = atFileStart;
  /**
   * The last bytes of the piece decoded last, copied (pieces are views of a buffer the next read
   * reuses): where a character the decoder holds unfinished began.
   */
  let tail = Buffer.alloc(0);
  const decode = (piece: Buffer): string => {
    try {
      return decoder.decode(piece, { stream: true });
    } catch {
      throw notUtf8(piece, tail);
    } finally {
      tail = Buffer.from(piece.subarray(Math.max(0, piece.length - 3)));
    }
  };
  /** Ends the decoder; `next`: the ASCII that follows what it holds, if anything does. */
  const finish = (next?: Buffer): string => {
    try {
      return decoder.decode();
    } catch {
      throw cutShort(tail, next);
    }
  };
  return {
    write(piece) {
      let text: string;
      if (isAscii(piece)) {
        // Bytes the decoder still holds cannot continue into ASCII: ending it says they were not UTF-8.
        text = decoderUsed ? finish(piece) + piece.toString("latin1") : piece.toString("latin1");
        decoderUsed = false;
      } else {
        text = decode(piece);
        decoderUsed = true;
      }
      if (first && text !== "") {
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte-order mark
        first = false;
      }
      return text;
    },
    end: () => (decoderUsed ? finish() : ""),
  };
}

/**
 * A character begun at the end of `last` that `next` (ASCII) does not go on with, or that the file
 * ends inside (no `next`), as a NotUtf8Error on the line the decoded text had reached.
 */
function cutShort(last: Buffer, next: Buffer | undefined): NotUtf8Error {
  if (next === undefined) return new NotUtf8Error("", "");
  return new NotUtf8Error("", hex(Buffer.concat([unfinished(last), next.subarray(0, 4)]).subarray(0, 4)));
}

/**
 * Where in `piece` its first bytes that are not UTF-8 are, as a NotUtf8Error; at its start, the bytes
 * shown begin with the character `previous` (the piece before) left unfinished.
 */
function notUtf8(piece: Buffer, previous: Buffer): NotUtf8Error {
  const offset = firstNotUtf8(piece);
  const before = piece.toString("utf8", 0, offset);
  let bytes = piece.subarray(offset, offset + 4);
  if (offset === 0) bytes = Buffer.concat([unfinished(previous), bytes]).subarray(0, 4);
  return new NotUtf8Error(before, hex(bytes));
}

/** The bytes at the end of `piece` that begin a character it does not finish (none when it ends whole). */
function unfinished(piece: Buffer): Buffer {
  for (let i = piece.length - 1; i >= 0 && i >= piece.length - 3; i--) {
    const b = piece[i]!;
    if ((b & 0xc0) === 0x80) continue;
    const needs = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return piece.length - i < needs ? piece.subarray(i) : piece.subarray(piece.length);
  }
  return piece.subarray(piece.length);
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(" ");
}

/**
 * The offset of the first byte of `piece` that does not start or continue a UTF-8 character (0 when
 * none does: what broke was a character begun in the chunk before). A piece may start inside a
 * character (its last bytes) and end inside one (the first bytes of the next chunk's): both are read
 * as the decoder reads them, whole with their neighbours.
 */
function firstNotUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < 3 && i < b.length && (b[i]! & 0xc0) === 0x80) i++;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    // The bytes that may follow this lead byte: how many, and the range of the first of them.
    let n: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c === 0xe0) lo = 0xa0; // no overlong forms
      if (c === 0xed) hi = 0x9f; // no surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f; // nothing past U+10FFFF
    } else return i;
    for (let k = 1; k <= n; k++) {
      if (i + k >= b.length) return 0; // cut by the chunk's end: whole in the file as far as this piece says
      const next = b[i + k]!;
      if (k === 1 ? next < lo || next > hi : (next & 0xc0) !== 0x80) return i;
    }
    i += n + 1;
  }
  return 0;
}

/**
 * Where text is read from: a path (`inventoryBytes` reads it: a file, a pipe, gzip, or stdin for
 * `-`), or raw bytes as they come (stdin, the start of which a reader has looked at already).
 */
export type ByteSource = string | AsyncIterable<Buffer>;

/** The text chunks of a source already begun (`readTextChunks`), tagged so they are not taken for bytes. */
export interface TextChunks {
  textChunks: AsyncIterable<TextChunk>;
}

/** Where lines are read from: bytes (`ByteSource`), or text chunks already decoded (`TextChunks`). */
export type TextSource = ByteSource | TextChunks;

/** The text chunks of `source`: decoded from its bytes, or those it holds already. */
export function textChunksOf(source: TextSource, name: string): AsyncIterable<TextChunk> {
  return isTextChunks(source) ? source.textChunks : readTextChunks(source, name);
}

function isTextChunks(source: TextSource): source is TextChunks {
  return typeof source !== "string" && "textChunks" in source;
}

export interface Line {
  text: string;
  /** 1-based line number. */
  number: number;
}

/**
 * Splits text chunks into lines without copying the file into memory; yields arrays of lines
 * (one array per chunk) so callers pay one async step per chunk, not per line. `source`: a path, bytes
 * as they come, or the text chunks of a source already begun (`{ textChunks }`).
 */
export async function* readLines(
  source: TextSource,
  name: string,
  onBytes?: (bytes: number) => void,
): AsyncGenerator<Line[]> {
  const splitter = lineSplitter(1, name);
  try {
    for await (const { text, bytes } of textChunksOf(source, name)) {
      const lines = splitter.push(text);
      onBytes?.(bytes);
      if (lines.length > 0) yield lines;
    }
  } catch (err) {
    throw err instanceof NotUtf8Error ? err.at(name, splitter.line()) : err;
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
  const decode = (piece: Buffer | undefined): string => {
    try {
      return piece === undefined ? decoder.end() : decoder.write(piece);
    } catch (err) {
      throw err instanceof NotUtf8Error ? err.at(name, splitter.line()) : err;
    }
  };
  for (let start = 0; start < bytes.length; start += TEXT_SIZE) {
    const lines = splitter.push(decode(bytes.subarray(start, Math.min(bytes.length, start + TEXT_SIZE))));
    if (lines.length > 0) yield lines;
  }
  const rest = decode(undefined);
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
function lineSplitter(
  firstLine: number,
  name: string,
): { push(text: string): Line[]; end(): Line[]; line(): number } {
  let carry = "";
  let number = firstLine - 1;
  return {
    /** The line the next text pushed goes on. */
    line: () => number + 1,
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
