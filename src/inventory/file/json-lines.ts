import { printable } from "../../cli/table.js";
import { InputError } from "../../errors.js";
import type { Resource } from "../types.js";
import type { Line } from "./text-chunks.js";
import { mayHoldNul, refuseNul, toResource } from "./validate.js";

const BATCH = 256;

/**
 * The resources of some JSON lines, checked, in batches of at most 256 (blank lines skipped). Each
 * batch is made when asked for: it is judged while its objects are young, which keeps the GC cheap.
 * A bad line is an InputError naming `name:LINE`.
 */
export function* jsonLineBatches(lines: readonly Line[], name: string): Generator<Resource[]> {
  for (let start = 0; start < lines.length; start += BATCH) {
    const end = Math.min(lines.length, start + BATCH);
    const batch: Resource[] = [];
    for (let i = start; i < end; i++) {
      const l = lines[i]!;
      const text = l.text;
      if (text.length === 0 || isBlank(text)) continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        const spread = spreadHint(text.trim());
        // Newer V8s quote the text in the message: its control characters are shown, not sent.
        throw new InputError(
          `${name}:${l.number}: not valid JSON: ${printable((err as Error).message)}${spread}`,
        );
      }
      if (mayHoldNul(text)) refuseNul(value, name, l.number);
      if (l.number === 1 && Array.isArray(value)) throw arrayLine(name, l.number);
      batch.push(toResource(value, name, l.number));
    }
    if (batch.length > 0) yield batch;
  }
}

/** A first line holding an array: a JSON array file read as JSON lines (stdin, or a .jsonl named wrongly). */
function arrayLine(name: string, line: number): InputError {
  const where = name === "-" ? "stdin (file:-) is read as JSON lines" : "the file is read as JSON lines";
  return new InputError(
    `${name}:${line} is not valid: it holds a JSON array, and ${where}: one resource, an object, per line. A JSON array belongs in a file named .json, read as file:PATH.json`,
  );
}

/** Why a line holding only a bracket is not JSON lines: JSON spread over lines, as pretty-printers write. */
function spreadHint(line: string): string {
  if (line === "{")
    return " (a line of only `{`: JSON lines hold one whole object per line, as jq -c writes them, not JSON spread over lines)";
  if (line === "[")
    return " (a line of only `[`: a JSON array spread over lines; in a file named .json it is read as one)";
  return "";
}

function isBlank(text: string): boolean {
  return text.trim() === "";
}
