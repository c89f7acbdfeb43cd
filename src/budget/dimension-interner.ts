import { type ChargeDimensions, parseTags } from "./charge.js";
import type { CsvRecord } from "./csv-scanner.js";
import type { DimensionColumn } from "./focus-columns.js";

/**
 * Gives each distinct combination of a row's dimension fields (tags, provider, service, region, ...)
 * a small integer id, straight from the CSV bytes: a cheap fingerprint of sampled bytes picks a slot of
 * an open-addressing table and a full byte comparison confirms the match, so ids are exact (two
 * combinations with the same fingerprint get different ids). Billing exports repeat a few thousand
 * combinations millions of times; each is decoded (and its Tags JSON parsed) once, when first seen.
 */
export interface DimensionEntry {
  readonly id: number;
  readonly dimensions: ChargeDimensions;
  /** Set when the Tags field is not a JSON object. */
  readonly tagsError: SyntaxError | null;
}

interface Stored extends DimensionEntry {
  readonly hash: number;
  /** Byte length per column, -1 for a NULL/empty field. */
  readonly lengths: Int32Array;
  /** The columns' raw bytes, one after another (a DataView over them: compared 4 bytes at a time). */
  readonly bytes: DataView;
}

/** Past this many distinct combinations the interner forgets them all (memory stays bounded). */
export const MAX_DIMENSION_ENTRIES = 200_000;

export class DimensionInterner {
  private entries: Stored[] = [];
  /** Open addressing: entry index + 1 per slot, 0 for an empty slot; at most half full. */
  private slots = new Int32Array(1024);
  private view: DataView = new DataView(new ArrayBuffer(0));
  private viewOf: Uint8Array | null = null;
  /** Changes when the interner forgets everything (memory bound): ids are then reused. */
  epoch = 0;

  /** `columns[k]` names the dimension at field `fields[k]` of each record. */
  constructor(
    private readonly columns: readonly DimensionColumn[],
    private readonly fields: readonly number[],
    private readonly maxEntries = MAX_DIMENSION_ENTRIES,
  ) {}

  /** The entry of the current record's dimension fields; bit k of `nulls` says field k is null. */
  intern(rec: CsvRecord, nulls: number): DimensionEntry {
    const buf = rec.buf;
    if (buf !== this.viewOf) {
      this.viewOf = buf;
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    const fields = this.fields;
    let h = nulls | 0;
    for (let k = 0; k < fields.length; k++) {
      if ((nulls >>> k) & 1) continue;
      const f = fields[k]!;
      h = fingerprint(h, buf, rec.start(f), rec.end(f));
    }
    const slots = this.slots;
    const mask = slots.length - 1;
    let slot = (h ^ (h >>> 15)) & mask;
    for (;;) {
      const i = slots[slot]!;
      if (i === 0) break;
      const entry = this.entries[i - 1]!;
      if (entry.hash === h && this.matches(entry, rec, nulls)) return entry;
      slot = (slot + 1) & mask;
    }
    if (this.entries.length >= this.maxEntries) {
      this.entries = [];
      this.slots = new Int32Array(1024);
      this.epoch++;
      return this.intern(rec, nulls);
    }
    const entry = this.create(rec, nulls, h);
    this.entries.push(entry);
    slots[slot] = this.entries.length;
    if (this.entries.length * 2 > slots.length) this.rehash(slots.length * 2);
    return entry;
  }

  private rehash(size: number): void {
    const slots = new Int32Array(size);
    const mask = size - 1;
    for (let i = 0; i < this.entries.length; i++) {
      const h = this.entries[i]!.hash;
      let slot = (h ^ (h >>> 15)) & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = i + 1;
    }
    this.slots = slots;
  }

  private matches(entry: Stored, rec: CsvRecord, nulls: number): boolean {
    const lengths = entry.lengths;
    const key = entry.bytes;
    const view = this.view;
    const fields = this.fields;
    let at = 0;
    for (let k = 0; k < fields.length; k++) {
      const len = lengths[k]!;
      if ((nulls >>> k) & 1) {
        if (len >= 0) return false;
        continue;
      }
      const f = fields[k]!;
      const s = rec.start(f);
      if (len !== rec.end(f) - s) return false;
      let i = 0;
      for (; i + 4 <= len; i += 4) if (view.getInt32(s + i) !== key.getInt32(at + i)) return false;
      for (; i < len; i++) if (view.getUint8(s + i) !== key.getUint8(at + i)) return false;
      at += len;
    }
    return true;
  }

  private create(rec: CsvRecord, nulls: number, hash: number): Stored {
    const lengths = new Int32Array(this.fields.length);
    const parts: Buffer[] = [];
    const values: Partial<Record<DimensionColumn, string | null>> = {};
    let tags: Record<string, string> = {};
    let tagsError: SyntaxError | null = null;
    this.fields.forEach((f, k) => {
      const column = this.columns[k]!;
      if ((nulls >>> k) & 1) {
        lengths[k] = -1;
        values[column] = null;
        return;
      }
      const bytes = Buffer.from(rec.buf.subarray(rec.start(f), rec.end(f)));
      lengths[k] = bytes.length;
      parts.push(bytes);
      const text = unquote(bytes);
      if (column === "Tags") {
        try {
          tags = parseTags(text);
        } catch (err) {
          tagsError = err instanceof SyntaxError ? err : new SyntaxError(String(err));
        }
      } else values[column] = text === "NULL" ? null : text;
    });
    const all = Buffer.concat(parts);
    const dimensions: ChargeDimensions = Object.freeze({
      provider: values.ProviderName ?? null,
      subAccountId: values.SubAccountId ?? null,
      subAccountName: values.SubAccountName ?? null,
      service: values.ServiceName ?? null,
      regionId: values.RegionId ?? null,
      regionName: values.RegionName ?? null,
      tags: Object.freeze(tags),
      resourceId: values.ResourceId ?? null,
      pricingUnit: values.PricingUnit ?? null,
    });
    return {
      id: this.entries.length,
      hash,
      lengths,
      bytes: new DataView(all.buffer, all.byteOffset, all.byteLength),
      dimensions,
      tagsError,
    };
  }
}

function unquote(bytes: Buffer): string {
  const text = bytes.toString("utf8");
  return text.includes('""') ? text.replaceAll('""', '"') : text;
}

/** Mixes a field's length and up to 16 sampled bytes (all of a short field) into `h`. */
export function fingerprint(h: number, buf: Uint8Array, start: number, end: number): number {
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
