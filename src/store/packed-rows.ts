import type { SqlValue } from "./sql.js";

/**
 * Rows of statement values packed as UTF-8 text in one buffer, with where each row ends: made by the
 * scan workers that judged the findings, passed on by the main thread as bytes and to the SQLite
 * writer thread by transferring the buffer, and unpacked there with a slice and a split per row.
 * Before, each row went as JSON: decoded and parsed on the main thread, then cloned value by value
 * into the writer. Alternating the two builds over a first stored scan of 1,000,000 resources, the
 * process used less CPU in nine pairs of eleven (the median difference 1.5 s of ~25 s) and 12–51 MB
 * less memory in all (docs/scan.md). Single-threaded scans still send rows as values: packing them on
 * the recording thread measured slower than cloning them.
 *
 * A row's values are separated by U+001F; null is U+0000 alone. A row with a value that is not a
 * string or null, or that holds U+0000, U+0002, U+001F or half a surrogate pair (which UTF-8 can't
 * carry; JSON escapes it), is U+0002 followed by its values as JSON (numbers; a bigint can't be packed).
 */
export class PackedRows {
  constructor(
    /** The rows one after another. */
    readonly bytes: Uint8Array,
    /** Where each row ends in `bytes` (row i starts where row i - 1 ends). */
    readonly ends: Uint32Array,
  ) {}

  get length(): number {
    return this.ends.length;
  }
}

const FIELD = "\u001f";
const NULL = "\u0000";
const AS_JSON = "\u0002";
const NEEDS_JSON =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the separators a packed value must not hold
  /[\u0000\u0002\u001f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A row's values as packed text. */
export function packRow(values: readonly SqlValue[]): string {
  let text = "";
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null) text += i === 0 ? NULL : FIELD + NULL;
    else if (typeof v === "string" && !NEEDS_JSON.test(v)) text += i === 0 ? v : FIELD + v;
    else return AS_JSON + JSON.stringify(values);
  }
  return text;
}

/**
 * Calls `fn` with each row's values, in order. Self-contained (no names from this module): the SQLite
 * writer thread runs its source text (sqlite-worker.ts).
 */
export function forEachPackedRow(
  bytes: Uint8Array,
  ends: Uint32Array,
  fn: (values: (string | null)[] | SqlValue[]) => void,
): void {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i] as number;
    const text = buffer.toString("utf8", start, end);
    start = end;
    if (text.charCodeAt(0) === 2) {
      fn(JSON.parse(text.slice(1)) as SqlValue[]);
      continue;
    }
    const values: (string | null)[] = text.split("\u001f");
    for (let v = 0; v < values.length; v++) if (values[v] === "\u0000") values[v] = null;
    fn(values);
  }
}

/** Every row's values (for drivers that take them as arrays). */
export function unpackRows(
  rows: readonly (readonly SqlValue[])[] | PackedRows,
): readonly (readonly SqlValue[])[] {
  if (!(rows instanceof PackedRows)) return rows;
  const out: SqlValue[][] = [];
  forEachPackedRow(rows.bytes, rows.ends, (values) => out.push(values));
  return out;
}

/** Gathers rows already packed as bytes into buffers of rows. */
export class RowPacker {
  private bytes: Uint8Array;
  private ends: Uint32Array;
  private at = 0;
  private count = 0;

  constructor(expectedRows = 2000) {
    this.bytes = new Uint8Array(expectedRows * 640);
    this.ends = new Uint32Array(expectedRows);
  }

  get length(): number {
    return this.count;
  }

  /** Adds a row packed by `packRow`, as UTF-8. */
  addBytes(row: Uint8Array): void {
    if (this.at + row.length > this.bytes.length) this.grow(row.length);
    this.bytes.set(row, this.at);
    this.at += row.length;
    this.end();
  }

  /** The rows packed so far, in buffers of their own (to transfer); the packer starts empty. */
  take(): PackedRows {
    const rows = new PackedRows(this.bytes.slice(0, this.at), this.ends.slice(0, this.count));
    this.at = 0;
    this.count = 0;
    return rows;
  }

  private end(): void {
    if (this.count === this.ends.length) {
      const ends = new Uint32Array(this.ends.length * 2);
      ends.set(this.ends);
      this.ends = ends;
    }
    this.ends[this.count++] = this.at;
  }

  private grow(atLeast: number): void {
    const bigger = new Uint8Array(Math.max(this.bytes.length * 2, this.at + atLeast));
    bigger.set(this.bytes.subarray(0, this.at));
    this.bytes = bigger;
  }
}
