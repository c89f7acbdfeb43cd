import { type ChargeDimensions, parseTags } from "./charge.js";
import type { CsvRecord } from "./csv-scanner.js";
import type { DimensionColumn } from "./focus-columns.js";

/**
 * Gives each distinct combination of a row's dimension fields (tags, provider, service, region, ...)
 * a small integer id, straight from the CSV bytes: a cheap fingerprint of sampled bytes picks a bucket
 * and a byte comparison confirms the match, so ids are exact. Billing exports repeat a few thousand
 * combinations millions of times; each is decoded (and its Tags JSON parsed) once, when first seen.
 */
export interface DimensionEntry {
  readonly id: number;
  readonly dimensions: ChargeDimensions;
  /** Set when the Tags field is not a JSON object. */
  readonly tagsError: SyntaxError | null;
}

interface Stored extends DimensionEntry {
  /** Raw bytes per column; null for a NULL/empty field. */
  readonly keys: (Buffer | null)[];
}

const MAX_ENTRIES = 200_000;

export class DimensionInterner {
  private buckets = new Map<number, Stored[]>();
  private count = 0;
  /** Changes when the interner forgets everything (memory bound): ids are then reused. */
  epoch = 0;

  /**
   * `columns[k]` names the dimension at field `fields[k]` of each record. `isNull(k)` says whether that
   * field of the current record is null.
   */
  constructor(
    private readonly columns: readonly DimensionColumn[],
    private readonly fields: readonly number[],
  ) {}

  intern(rec: CsvRecord, nulls: number): DimensionEntry {
    const buf = rec.buf;
    const starts = rec.starts;
    const ends = rec.ends;
    const fields = this.fields;
    let h = nulls | 0;
    for (let k = 0; k < fields.length; k++) {
      if ((nulls >>> k) & 1) continue;
      const f = fields[k]!;
      h = fingerprint(h, buf, starts[f]!, ends[f]!);
    }
    const chain = this.buckets.get(h);
    if (chain !== undefined) {
      for (let c = 0; c < chain.length; c++) {
        const entry = chain[c]!;
        if (this.matches(entry, rec, nulls)) return entry;
      }
    }
    if (this.count >= MAX_ENTRIES) {
      this.buckets = new Map();
      this.count = 0;
      this.epoch++;
      return this.intern(rec, nulls);
    }
    const entry = this.create(rec, nulls);
    if (chain === undefined) this.buckets.set(h, [entry]);
    else chain.push(entry);
    return entry;
  }

  private matches(entry: Stored, rec: CsvRecord, nulls: number): boolean {
    const keys = entry.keys;
    const fields = this.fields;
    for (let k = 0; k < fields.length; k++) {
      const key = keys[k]!;
      if ((nulls >>> k) & 1) {
        if (key !== null) return false;
        continue;
      }
      if (key === null) return false;
      const f = fields[k]!;
      const s = rec.starts[f]!;
      const len = rec.ends[f]! - s;
      if (key.length !== len) return false;
      if (len > 32) {
        if (rec.buf.compare(key, 0, len, s, s + len) !== 0) return false;
      } else {
        const buf = rec.buf;
        for (let i = 0; i < len; i++) if (buf[s + i] !== key[i]) return false;
      }
    }
    return true;
  }

  private create(rec: CsvRecord, nulls: number): Stored {
    const keys: (Buffer | null)[] = [];
    const values: Partial<Record<DimensionColumn, string | null>> = {};
    let tags: Record<string, string> = {};
    let tagsError: SyntaxError | null = null;
    this.fields.forEach((f, k) => {
      const column = this.columns[k]!;
      if ((nulls >>> k) & 1) {
        keys.push(null);
        values[column] = null;
        return;
      }
      const bytes = Buffer.from(rec.buf.subarray(rec.starts[f], rec.ends[f]));
      keys.push(bytes);
      const text = unquote(bytes);
      if (column === "Tags") {
        try {
          tags = parseTags(text);
        } catch (err) {
          tagsError = err instanceof SyntaxError ? err : new SyntaxError(String(err));
        }
      } else values[column] = text === "NULL" ? null : text;
    });
    const dimensions: ChargeDimensions = Object.freeze({
      provider: values.ProviderName ?? null,
      subAccountId: values.SubAccountId ?? null,
      subAccountName: values.SubAccountName ?? null,
      service: values.ServiceName ?? null,
      regionId: values.RegionId ?? null,
      regionName: values.RegionName ?? null,
      tags: Object.freeze(tags),
    });
    return { id: this.count++, keys, dimensions, tagsError };
  }
}

function unquote(bytes: Buffer): string {
  const text = bytes.toString("utf8");
  return text.includes('""') ? text.replaceAll('""', '"') : text;
}

/** Mixes a field's length and up to 16 sampled bytes (all of a short field) into `h`. */
function fingerprint(h: number, buf: Uint8Array, start: number, end: number): number {
  const len = end - start;
  h = Math.imul(h ^ len, 0x01000193);
  if (len <= 16) {
    for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    return h;
  }
  const step = len >>> 4;
  for (let i = start; i < end; i += step) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return Math.imul(h ^ buf[end - 1]!, 0x01000193);
}
