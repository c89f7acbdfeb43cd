/**
 * Gives each distinct byte string (a field of a CSV row) a small integer id without making a JS string:
 * a cheap fingerprint of sampled bytes picks a bucket, and a native byte comparison confirms the match,
 * so ids are exact. Billing exports repeat a few thousand tag sets, services and regions millions of
 * times; interning them is what lets ingest skip decoding and hashing them row after row.
 */
export class ByteInterner<T> {
  private readonly buckets = new Map<number, number[]>();
  private readonly keys: Buffer[] = [];
  private readonly values: T[] = [];

  constructor(private readonly decode: (bytes: Buffer) => T) {}

  get size(): number {
    return this.keys.length;
  }

  intern(buf: Buffer, start: number, end: number): number {
    const h = fingerprint(buf, start, end);
    const chain = this.buckets.get(h);
    const len = end - start;
    if (chain !== undefined) {
      for (let i = 0; i < chain.length; i++) {
        const id = chain[i]!;
        const key = this.keys[id]!;
        if (key.length === len && buf.compare(key, 0, len, start, end) === 0) return id;
      }
    }
    const copy = Buffer.from(buf.subarray(start, end));
    const id = this.keys.length;
    this.keys.push(copy);
    this.values.push(this.decode(copy));
    if (chain === undefined) this.buckets.set(h, [id]);
    else chain.push(id);
    return id;
  }

  value(id: number): T {
    return this.values[id]!;
  }

  clear(): void {
    this.buckets.clear();
    this.keys.length = 0;
    this.values.length = 0;
  }
}

/** Length plus up to 24 bytes sampled evenly (all of them for short fields), mixed FNV-style. */
function fingerprint(buf: Uint8Array, start: number, end: number): number {
  const len = end - start;
  let h = Math.imul(len, 0x9e3779b1) >>> 0;
  if (len <= 24) {
    for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  } else {
    const step = len / 24;
    for (let k = 0; k < 24; k++) h = Math.imul(h ^ buf[start + Math.floor(k * step)]!, 0x01000193);
    h = Math.imul(h ^ buf[end - 1]!, 0x01000193);
  }
  return h | 0;
}
