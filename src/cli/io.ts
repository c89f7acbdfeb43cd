import { parseAllDocuments } from "yaml";
import { InputError } from "../errors.js";
import { firstCharacter } from "../inventory/file/file-provider.js";
import { readJsonArray } from "../inventory/file/json-array.js";
import { readLines } from "../inventory/file/text-chunks.js";
import { duplicateKey, duplicateKeyMessage, lineAndColumn } from "../json-duplicates.js";
import {
  holdsPrototypeKey,
  PROTOTYPE_KEY_MESSAGE,
  PrototypeKeyError,
  parseJsonSafely,
} from "../json-safe.js";
import { yamlValue } from "../yaml-value.js";

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
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    let value: unknown;
    let parsed = false;
    try {
      value = parseJsonSafely(trimmed);
      parsed = true;
    } catch (err) {
      if (err instanceof PrototypeKeyError) throw new InputError(`${name} ${err.message}`);
      if (trimmed.startsWith("{")) return parseJsonLines(text, name);
    }
    if (parsed) {
      refuseDuplicateKey(text, name);
      if (Array.isArray(value))
        return { shape: "array", values: value.map((v, i) => ({ value: v, where: `${name} item ${i}` })) };
      return { shape: "single", values: [{ value, where: name }] };
    }
  }
  const docs = parseAllDocuments(text, { merge: true });
  if (!Array.isArray(docs)) throw new InputError(`${name} is empty`);
  const values: { value: unknown; where: string }[] = [];
  for (const [i, doc] of docs.entries()) {
    const err = doc.errors[0];
    if (err) {
      const pos = err.linePos?.[0];
      throw new InputError(
        `${name}${pos ? `:${pos.line}:${pos.col}` : ""}: not valid JSON or YAML: ${err.message.split("\n")[0]}`,
      );
    }
    const value: unknown = yamlValue(doc, docs.length > 1 ? `${name} document ${i + 1}` : name);
    if (value === null || value === undefined) continue;
    if (holdsPrototypeKey(value))
      throw new InputError(
        `${docs.length > 1 ? `${name} document ${i + 1}` : name} ${PROTOTYPE_KEY_MESSAGE}`,
      );
    values.push({ value, where: docs.length > 1 ? `${name} document ${i + 1}` : name });
  }
  if (values.length === 1 && Array.isArray(values[0]!.value)) {
    const arr = values[0]!.value as unknown[];
    return { shape: "array", values: arr.map((v, i) => ({ value: v, where: `${name} item ${i}` })) };
  }
  if (values.length === 0) throw new InputError(`${name} holds no request`);
  return { shape: values.length === 1 ? "single" : "array", values };
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

/** A request file too big to read whole: JSON lines (it starts with `{`) or a JSON array (`[`). */
export function streamInputs(
  path: string,
  name: string,
  size: number,
  onBytes?: (bytes: number) => void,
): StreamedInput {
  const first = firstCharacter(path);
  if (first === "{") return { shape: "lines", batches: jsonLineValues(path, name, onBytes) };
  if (first === "[") return { shape: "array", batches: jsonArrayValues(path, name, onBytes) };
  throw new InputError(
    `${name} is ${(size / 1e6).toFixed(0)} MB: inputs over ${WHOLE_INPUT_LIMIT / (1024 * 1024)} MiB are read as a stream, so they must be JSON lines or a JSON array (YAML and a single JSON object are read whole)`,
  );
}

async function* jsonLineValues(
  path: string,
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
  path: string,
  name: string,
  onBytes?: (bytes: number) => void,
): AsyncGenerator<{ value: unknown; where: string }[]> {
  let index = 0;
  for await (const elements of readJsonArray(path, name, onBytes))
    yield elements.map(({ value, line }) => ({ value, where: `${name} item ${index++} (line ${line})` }));
}
