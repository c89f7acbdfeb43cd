import { printable } from "../../cli/table.js";
import { InputError } from "../../errors.js";
import {
  MAX_LINE_CHARS,
  NotUtf8Error,
  positionIn,
  type TextChunk,
  type TextSource,
  textChunksOf,
} from "./text-chunks.js";
import { mayHoldNul, refuseNul } from "./validate.js";

/** An element of the array, and the line of the file it starts on. */
export interface JsonArrayElement {
  value: unknown;
  line: number;
}

/**
 * Streams the elements of a top-level JSON array (`[{...}, {...}]`) without holding the whole file:
 * a small scanner finds where each element ends (tracking nesting and strings), then JSON.parse
 * reads just that element. Yields arrays of parsed elements with the line each starts on, one array
 * per chunk read.
 */
export async function* readJsonArray(
  source: TextSource,
  name: string,
  onBytes?: (bytes: number) => void,
): AsyncGenerator<JsonArrayElement[]> {
  let buf = ""; // the chunk being scanned
  let pos = 0; // where scanning is in buf
  let held: string[] = []; // the element under way's text in earlier chunks
  let heldLength = 0;
  /** The element under way, from its start (in `held`, or at `elementStart`) to `end` in buf. */
  const element = (end: number): string => {
    const tail = buf.slice(elementStart, end);
    if (held.length === 0) return tail;
    const whole = held.join("") + tail;
    held = [];
    heldLength = 0;
    return whole;
  };
  let started = false; // saw the opening [
  let ended = false; // saw the closing ]
  let depth = 0; // nesting inside the current element
  let inString = false;
  let escaped = false;
  let elementStart = -1;
  let line = 1;
  let elementLine = 1;
  // Between elements: 0 just after [ (an element or ] may come), 1 after an element (a comma or ]
  // must come), 2 after a comma (an element must come). JSON allows nothing else between them.
  let between = 0;

  const fail = (message: string): never => {
    throw new InputError(`${name}:${line}: ${message}`);
  };

  for await (const { text, bytes } of namedChunks(source, name, () => line)) {
    if (elementStart >= 0) {
      // The element goes on into this chunk: keep what the last one held of it, and go on from the
      // start of this one. (Joining the chunks as they come would copy the element again for each.)
      held.push(buf.slice(elementStart));
      heldLength += buf.length - elementStart;
      elementStart = 0;
      if (heldLength + text.length > MAX_LINE_CHARS)
        throw new InputError(
          `${name}:${elementLine}: the element starting here is longer than ${MAX_LINE_CHARS / (1024 * 1024)} MiB, more than any one record needs: not read`,
        );
    }
    buf = text;
    pos = 0;
    const out: JsonArrayElement[] = [];
    let bad: unknown;
    try {
      scan(out);
    } catch (err) {
      bad = err;
    }
    onBytes?.(bytes);
    // The elements before a bad one are still handed on (a reader acts on them) before it stops.
    if (out.length > 0) yield out;
    if (bad !== undefined) throw bad;
  }
  if (!started) throw new InputError(`${name} is empty: expected a JSON array`);
  if (!ended) throw new InputError(`${name}:${line}: the JSON array is not closed with ]`);

  /** Scans the chunk in `buf` from `pos`, adding the elements it ends to `out`. */
  function scan(out: JsonArrayElement[]): void {
    for (; pos < buf.length; pos++) {
      const c = buf.charCodeAt(pos);
      if (c === 10) line++;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === 92) escaped = true;
        else if (c === 34) inString = false;
        continue;
      }
      if (c === 32 || c === 10 || c === 13 || c === 9) continue;
      if (ended) fail("unexpected text after the closing ]");
      if (!started) {
        if (c !== 91) fail("expected a JSON array starting with [");
        started = true;
        continue;
      }
      if (elementStart < 0) {
        if (c === 44) {
          if (between !== 1) fail(between === 0 ? "a comma before the first element" : "two commas in a row");
          between = 2;
          continue;
        }
        if (c === 93) {
          if (between === 2) fail("a comma before the closing ] (JSON allows none)");
          ended = true;
          continue;
        }
        if (between === 1) fail("a comma is missing between two elements");
        elementStart = pos;
        elementLine = line;
      }
      if (c === 34) inString = true;
      else if (c === 123 || c === 91) depth++;
      else if (c === 125 || c === 93) {
        if (depth === 0) {
          // `]` closing the array right after a scalar element
          if (c === 93) {
            out.push({ value: parseElement(element(pos), name, elementLine), line: elementLine });
            elementStart = -1;
            ended = true;
            continue;
          }
          fail("unbalanced }");
        }
        depth--;
        if (depth === 0) {
          out.push({ value: parseElement(element(pos + 1), name, elementLine), line: elementLine });
          elementStart = -1;
          between = 1;
        }
      } else if (c === 44 && depth === 0) {
        out.push({ value: parseElement(element(pos), name, elementLine), line: elementLine });
        elementStart = -1;
        between = 2;
      }
    }
  }
}

function parseElement(text: string, name: string, line: number): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // JSON.parse counts from the element's start: the message names the file's line and column.
    // Newer V8s quote the text in the message: its control characters are shown, not sent.
    const message = printable((err as Error).message);
    const at = / at position (\d+)(?: \(line \d+ column \d+\))?/.exec(message);
    if (at === null) throw new InputError(`${name}:${line}: not valid JSON: ${message}`);
    const position = Number(at[1]);
    const { feeds, lineStart } = positionIn(text, position);
    const errorLine = line + feeds;
    const column = errorLine === line ? "" : `, column ${position - lineStart + 1}`;
    throw new InputError(
      `${name}:${errorLine}: not valid JSON${column}: ${message.slice(0, at.index)}${message.slice(at.index + at[0].length)}`,
    );
  }
  if (mayHoldNul(text)) refuseNul(value, name, line);
  return value;
}

/** The file's text chunks; bytes that are not UTF-8 are named by the line the scanner is on. */
async function* namedChunks(source: TextSource, name: string, line: () => number): AsyncGenerator<TextChunk> {
  try {
    yield* textChunksOf(source, name);
  } catch (err) {
    throw err instanceof NotUtf8Error ? err.at(name, line()) : err;
  }
}
