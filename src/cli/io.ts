import { parseAllDocuments } from "yaml";
import { InputError } from "../errors.js";
import { decodeText } from "../files.js";
import { firstCharacter } from "../inventory/file/file-provider.js";
import { readJsonArray } from "../inventory/file/json-array.js";
import { type ByteSource, readLines } from "../inventory/file/text-chunks.js";
import { duplicateKey, duplicateKeyMessage, lineAndColumn } from "../json-duplicates.js";
import {
  holdsPrototypeKey,
  PROTOTYPE_KEY_MESSAGE,
  PrototypeKeyError,
  parseJsonSafely,
} from "../json-safe.js";
import { NestedTooDeepError } from "../objects.js";
import { NESTED_TOO_DEEP, yamlTooDeep, yamlValue } from "../yaml-value.js";

export type InputShape = "single" | "array" | "lines";

export interface ParsedInput {
  shape: InputShape;
  values: { value: unknown; where: string }[];
}

/**
 * Parses one JSON or YAML object, an array of them, JSON lines, or several YAML documents.
 * The shape tells the caller how to write answers back (one, an array, or lines to match).
 */
export function parseInputs(text: string, name: string): ParsedInput {
  const trimmed = text.trim();
  if (trimmed === "")
    throw new InputError(`${name} is empty: expected a JSON or YAML object, an array, or JSON lines`);
  let notJson: { error: Error; offset: number } | undefined;
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    let value: unknown;
    try {
      value = parseJsonSafely(trimmed);
    } catch (err) {
      if (err instanceof PrototypeKeyError) throw new InputError(`${name} ${err.message}`);
      notJson = { error: err as Error, offset: text.length - text.trimStart().length };
    }
    if (notJson === undefined) {
      refuseDuplicateKey(text, name);
      if (Array.isArray(value))
        return { shape: "array", values: value.map((v, i) => ({ value: v, where: `${name} item ${i}` })) };
      return { shape: "single", values: [{ value, where: name }] };
    }
    if (trimmed.startsWith("{") && (JSON_LINES_NAME.test(name) || startsJsonLines(trimmed)))
      return parseJsonLines(text, name);
    // A file named .json is meant as JSON: its mistake is said where it is, not read as YAML (which
    // takes a trailing comma) nor as JSON lines (which blamed line 1 of a document over several).
    if (JSON_NAME.test(name)) throw notValidJson(notJson.error, text, notJson.offset, name);
  }
  // YAML, and JSON that is not (`{type: compute/instance}`, a flow mapping, is a YAML request too).
  const deep = yamlTooDeep(text);
  if (deep !== undefined) {
    // As below: text written as JSON is told what JSON makes of it, its nesting being no YAML's.
    if (notJson && /^[[{\s]*"/.test(trimmed)) throw notValidJson(notJson.error, text, notJson.offset, name);
    throw new InputError(`${name}:${deep.line}:${deep.column}: ${NESTED_TOO_DEEP}`);
  }
  const docs = parseAllDocuments(text, { merge: true });
  if (!Array.isArray(docs)) throw new InputError(`${name} is empty`);
  const values: { value: unknown; where: string }[] = [];
  for (const [i, doc] of docs.entries()) {
    const err = doc.errors[0];
    if (err) {
      // Text that was written as JSON (its first key quoted) is told what JSON makes of it.
      if (notJson && /^[[{\s]*"/.test(trimmed)) throw notValidJson(notJson.error, text, notJson.offset, name);
      const pos = err.linePos?.[0];
      throw new InputError(
        `${name}${pos ? `:${pos.line}:${pos.col}` : ""}: not valid JSON or YAML: ${err.message.split("\n")[0]!.replace(/ at line \d+, column \d+:$/, "")}`,
      );
    }
    const where = docs.length > 1 ? `${name} document ${i + 1}` : name;
    const value: unknown = yamlValue(doc, where);
    if (value === null || value === undefined) continue;
    let holds: boolean;
    try {
      holds = holdsPrototypeKey(value);
    } catch (err) {
      // Aliases nesting one another: a value deeper than its text, refused as a request that deep is.
      if (err instanceof NestedTooDeepError) throw new InputError(`${where} is not valid: ${err.message}`);
      throw err;
    }
    if (holds) throw new InputError(`${where} ${PROTOTYPE_KEY_MESSAGE}`);
    values.push({ value, where });
  }
  if (values.length === 1 && Array.isArray(values[0]!.value)) {
    const arr = values[0]!.value as unknown[];
    return { shape: "array", values: arr.map((v, i) => ({ value: v, where: `${name} item ${i}` })) };
  }
  if (values.length === 0) throw new InputError(`${name} holds no request`);
  return { shape: values.length === 1 ? "single" : "array", values };
}

/** Names of files that hold JSON, and of those that hold JSON lines. */
const JSON_NAME = /\.json$/i;
const JSON_LINES_NAME = /\.(jsonl|ndjson)$/i;

/**
 * Whether text that is not one JSON value is JSON lines: its first line is a JSON value by itself,
 * and more lines follow. (A document laid out over several lines has no such first line.)
 */
function startsJsonLines(trimmed: string): boolean {
  const end = trimmed.indexOf("\n");
  if (end < 0) return false;
  try {
    parseJsonSafely(trimmed.slice(0, end));
    return true;
  } catch (err) {
    return err instanceof PrototypeKeyError;
  }
}

/**
 * JSON.parse's error for `text` (parsed from `offset` on) as `name:LINE:COLUMN: not valid JSON: ...`,
 * at its place in the document: JSON.parse names an offset in the text parsed, or none at all
 * (`Unexpected token ']', ..."x"},\n]" is not valid JSON`), so the place is found again here.
 */
function notValidJson(err: Error, text: string, offset: number, name: string): InputError {
  const found = jsonErrorOffset(text, offset);
  const at = / at position (\d+)/.exec(err.message);
  const place = found >= 0 ? found : at ? offset + Number(at[1]) : text.trimEnd().length;
  // A comma before a closing } or ] (JSON allows none; YAML, JavaScript and editors do) is said as
  // such, at the comma: JSON.parse blames what comes after it, often on the next line.
  const closing = text[place];
  const before = text.slice(0, place).trimEnd();
  if ((closing === "}" || closing === "]") && before.endsWith(",")) {
    const { line, column } = lineAndColumn(text, before.length - 1);
    return new InputError(
      `${name}:${line}:${column}: not valid JSON: a comma before the closing ${closing} (JSON allows none)`,
    );
  }
  const { line, column } = lineAndColumn(text, place);
  // Without the offset, and without the piece of text V8 quotes (it may run over several lines).
  const message = err.message.split(/ in JSON at position | at position |, "|, \.\.\."/)[0];
  return new InputError(`${name}:${line}:${column}: not valid JSON: ${message}`);
}

/**
 * Where JSON `text` (from `start` on) stops being JSON: the offset of the first character no JSON
 * value could have there (the text's length when it ends too soon); -1 when it is JSON, or nested
 * too deep to say.
 */
function jsonErrorOffset(text: string, start: number): number {
  let i = start;
  const fail = (): never => {
    throw i;
  };
  const space = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r"))
      i++;
  };
  const string = () => {
    i++; // the opening quote
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 34) {
        i++;
        return;
      }
      if (c < 32) fail();
      if (c === 92) {
        i++;
        if (text[i] === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? "")) fail();
      }
      i++;
    }
    fail();
  };
  const scalar = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;
  const value = (): void => {
    space();
    const c = text[i];
    if (c === '"') {
      string();
      return;
    }
    if (c === "{" || c === "[") {
      const close = c === "{" ? "}" : "]";
      i++;
      space();
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        if (c === "{") {
          space();
          if (text[i] !== '"') fail();
          string();
          space();
          if (text[i] !== ":") fail();
          i++;
        }
        value();
        space();
        if (text[i] === close) {
          i++;
          return;
        }
        if (text[i] !== ",") fail();
        i++;
      }
    }
    scalar.lastIndex = i;
    if (!scalar.test(text)) fail();
    i = scalar.lastIndex;
  };
  try {
    value();
    space();
    if (i < text.length) fail();
    return -1;
  } catch (at) {
    if (typeof at === "number") return at;
    return -1; // nested deeper than the stack: JSON.parse's own offset is used
  }
}

function parseJsonLines(text: string, name: string): ParsedInput {
  const values: { value: unknown; where: string }[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    try {
      values.push({ value: parseJsonSafely(line), where: `${name}:${i + 1}` });
    } catch (err) {
      if (err instanceof PrototypeKeyError) throw new InputError(`${name}:${i + 1}: ${err.message}`);
      throw new InputError(`${name}:${i + 1}: not valid JSON: ${(err as Error).message}`);
    }
    refuseDuplicateKey(line, name, i + 1);
  }
  return { shape: "lines", values };
}

/** A key written twice in one object of JSON `text` (parsed already) is bad input, said where. */
function refuseDuplicateKey(text: string, name: string, lineNumber?: number): void {
  const dup = duplicateKey(text);
  if (dup === undefined) return;
  const { line, column } = lineAndColumn(text, dup.offset);
  throw new InputError(`${name}:${lineNumber ?? line}:${column}: ${duplicateKeyMessage(dup.key)}`);
}

/**
 * Request files over this size are read as a stream, never whole: JSON lines or a JSON array of any
 * size are decided in flat memory (one JavaScript string holds at most 512 MiB). Smaller ones are
 * read whole, where every shape (a single object, YAML documents) is understood.
 */
export const WHOLE_INPUT_LIMIT = 64 * 1024 * 1024;

export interface StreamedInput {
  shape: "array" | "lines";
  /** The input's values in order, a chunk of the file at a time. */
  batches: AsyncGenerator<{ value: unknown; where: string }[]>;
}

/**
 * A request input too big to read whole: JSON lines (it starts with `{`) or a JSON array (`[`). A
 * file by its path (and `size`), or bytes as they come (stdin) with their `first` character.
 */
export function streamInputs(
  source: ByteSource,
  name: string,
  size: number | undefined,
  onBytes?: (bytes: number) => void,
  first = typeof source === "string" ? firstCharacter(source) : undefined,
): StreamedInput {
  if (first === "{") return { shape: "lines", batches: jsonLineValues(source, name, onBytes) };
  if (first === "[") return { shape: "array", batches: jsonArrayValues(source, name, onBytes) };
  const limit = `${WHOLE_INPUT_LIMIT / (1024 * 1024)} MiB`;
  const big = size === undefined ? `over ${limit}` : `${(size / 1e6).toFixed(0)} MB`;
  throw new InputError(
    `${name} is ${big}: inputs over ${limit} are read as a stream, so they must be JSON lines or a JSON array (YAML and a single JSON object are read whole)`,
  );
}

/**
 * Standard input, whole (`text`, as readText reads it) when all of it fits in `limit` bytes; past
 * them, as a file over the limit is read: a stream of its bytes (`rest`: those read already, then
 * the others as they come) and its `first` character. Reading it whole took 900 MB for 92 MB of
 * JSON lines, and more than a string holds failed.
 */
export async function readStdinInput(
  chunks: AsyncIterable<Buffer>,
  limit: number,
): Promise<{ text: string } | { rest: AsyncIterable<Buffer>; first: string | undefined }> {
  const iterator = chunks[Symbol.asyncIterator]();
  const read: Buffer[] = [];
  let bytes = 0;
  while (bytes <= limit) {
    const next = await iterator.next();
    if (next.done) return { text: decodeText(Buffer.concat(read), "stdin") };
    read.push(next.value);
    bytes += next.value.length;
  }
  let head = "";
  for (let i = 0; i < read.length && head.trimStart().replace(/^\uFEFF/, "") === ""; i++)
    head += read[i]!.toString("utf8", 0, Math.min(read[i]!.length, 4096));
  async function* rest(): AsyncGenerator<Buffer> {
    // Each chunk let go once handed on: memory stays flat after the first `limit` bytes.
    while (read.length > 0) yield read.shift()!;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  return { rest: rest(), first: head.replace(/^\uFEFF/, "").trimStart()[0] };
}

async function* jsonLineValues(
  path: ByteSource,
  name: string,
  onBytes?: (bytes: number) => void,
): AsyncGenerator<{ value: unknown; where: string }[]> {
  for await (const lines of readLines(path, name, onBytes)) {
    const values: { value: unknown; where: string }[] = [];
    let bad: unknown;
    for (const l of lines) {
      if (l.text.trim() === "") continue;
      try {
        values.push({ value: jsonLine(l.text, name, l.number), where: `${name}:${l.number}` });
      } catch (err) {
        bad = err;
        break;
      }
    }
    // The lines before a bad one are still decided (and written) before it stops the input.
    if (values.length > 0) yield values;
    if (bad !== undefined) throw bad;
  }
}

/** One line of streamed JSON lines, parsed; bad JSON is an InputError naming the line. */
function jsonLine(text: string, name: string, number: number): unknown {
  let value: unknown;
  try {
    value = parseJsonSafely(text);
  } catch (err) {
    if (err instanceof PrototypeKeyError) throw new InputError(`${name}:${number}: ${err.message}`);
    const hint = number === 1 ? ` (a file over 64 MiB that starts with { is read as JSON lines)` : "";
    throw new InputError(`${name}:${number}: not valid JSON: ${(err as Error).message}${hint}`);
  }
  refuseDuplicateKey(text, name, number);
  return value;
}

async function* jsonArrayValues(
  path: ByteSource,
  name: string,
  onBytes?: (bytes: number) => void,
): AsyncGenerator<{ value: unknown; where: string }[]> {
  let index = 0;
  for await (const elements of readJsonArray(path, name, onBytes))
    yield elements.map(({ value, line }) => ({ value, where: `${name} item ${index++} (line ${line})` }));
}
