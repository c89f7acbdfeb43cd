import { createReadStream, statSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";

export interface TextChunk {
  text: string;
  /** Bytes of the source read so far. */
  bytes: number;
}

/** Reads a file (or stdin for `-`) as UTF-8 text chunks of about 1 MiB, with byte progress. */
export async function* readTextChunks(path: string): AsyncGenerator<TextChunk> {
  const stream = path === "-" ? process.stdin : createReadStream(path, { highWaterMark: 1 << 20 });
  const decoder = new StringDecoder("utf8");
  let bytes = 0;
  let first = true;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    let text = decoder.write(chunk);
    if (first) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte-order mark
      first = false;
    }
    if (text !== "") yield { text, bytes };
  }
  const rest = decoder.end();
  if (rest !== "") yield { text: rest, bytes };
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
export async function* readLines(path: string, onBytes?: (bytes: number) => void): AsyncGenerator<Line[]> {
  let carry = "";
  let number = 0;
  for await (const { text, bytes } of readTextChunks(path)) {
    const lines: Line[] = [];
    let start = 0;
    let nl = text.indexOf("\n");
    if (nl >= 0) {
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
    } else {
      carry += text;
    }
    onBytes?.(bytes);
    if (lines.length > 0) yield lines;
  }
  if (carry !== "") yield [{ text: stripCr(carry), number: ++number }];
}

function stripCr(line: string): string {
  return line.length > 0 && line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line;
}
