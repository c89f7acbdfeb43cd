/**
 * A streaming RFC 4180 CSV scanner over bytes. It finds field boundaries and hands each record to a
 * callback as offsets into the current buffer; nothing is decoded unless the consumer asks for it, which
 * is what makes ingest fast (the consumer decodes only the handful of FOCUS columns a budget needs).
 *
 * Memory stays bounded: only the unfinished tail of a chunk is carried over, and a record longer than
 * `maxRecordBytes` (an unterminated quote, say) stops the scan with an error.
 */
const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

export class CsvRecord {
  buf: Buffer = Buffer.alloc(0);
  starts = new Int32Array(64);
  ends = new Int32Array(64);
  /** 1 when a quoted field holds doubled quotes that must be unescaped. */
  escaped = new Uint8Array(64);
  /** 1 when the field was quoted (so `""` is an empty string, not a missing value). */
  quoted = new Uint8Array(64);
  count = 0;
  /** Physical line the record starts on (1-based; the header is line 1). */
  line = 0;
  /** Set when the record is malformed: which field (0-based) and why. */
  errorField = -1;
  errorMessage = "";

  text(i: number): string {
    const s = this.buf.toString("utf8", this.starts[i], this.ends[i]);
    return this.escaped[i] === 1 ? s.replaceAll('""', '"') : s;
  }

  /** Raw bytes as a latin1 string: a cheap exact key for caching decoded values. */
  key(i: number): string {
    return this.buf.toString("latin1", this.starts[i], this.ends[i]);
  }

  grow(): void {
    const n = this.starts.length * 2;
    const s = new Int32Array(n);
    s.set(this.starts);
    this.starts = s;
    const e = new Int32Array(n);
    e.set(this.ends);
    this.ends = e;
    const x = new Uint8Array(n);
    x.set(this.escaped);
    this.escaped = x;
    const q = new Uint8Array(n);
    q.set(this.quoted);
    this.quoted = q;
  }
}

export class CsvScanError extends Error {
  override readonly name = "CsvScanError";
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

export interface CsvScannerOptions {
  maxRecordBytes?: number;
  maxFields?: number;
  /** Line number of the first byte (a scan of a byte range of a file starts past line 1). */
  startLine?: number;
}

export class CsvScanner {
  private carry: Buffer | null = null;
  /** Offset of the next line feed in the current buffer (-1: not searched yet). */
  private nextLF = -1;
  private line = 1;
  private readonly record = new CsvRecord();
  private readonly maxRecordBytes: number;
  private readonly maxFields: number;
  /** Bytes seen so far (for progress and the byte-scan comparison). */
  bytes = 0;

  constructor(
    private readonly onRecord: (record: CsvRecord) => void,
    options: CsvScannerOptions = {},
  ) {
    this.maxRecordBytes = options.maxRecordBytes ?? 16 * 1024 * 1024;
    this.maxFields = options.maxFields ?? 4096;
    this.line = options.startLine ?? 1;
  }

  /** Bytes of an unfinished record held back for the next chunk (0: the input so far ends a record). */
  get pendingBytes(): number {
    return this.carry?.length ?? 0;
  }

  /** The line the next record starts on. */
  get nextLine(): number {
    return this.line;
  }

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    let buf = chunk;
    if (this.carry !== null) {
      // Finish the carried record with the chunk's first line only, rather than copying the whole chunk.
      const nl = chunk.indexOf(LF);
      const head = nl < 0 ? null : Buffer.concat([this.carry, chunk.subarray(0, nl + 1)]);
      if (head !== null && this.scan(head, false) === head.length) buf = chunk.subarray(nl + 1);
      else buf = Buffer.concat([this.carry, chunk]); // a quoted line break: the record goes on
      this.carry = null;
    }
    const used = this.scan(buf, false);
    if (used < buf.length) {
      if (buf.length - used > this.maxRecordBytes) {
        throw new CsvScanError(
          `a record runs past ${this.maxRecordBytes} bytes (an unterminated quote?)`,
          this.line,
        );
      }
      this.carry = Buffer.from(buf.subarray(used));
    }
  }

  end(): void {
    if (this.carry !== null) {
      const buf = this.carry;
      this.carry = null;
      this.scan(buf, true);
    }
  }

  /** Scans whole records from `buf`; returns how many bytes were consumed. */
  private scan(buf: Buffer, final: boolean): number {
    const len = buf.length;
    const rec = this.record;
    rec.buf = buf;
    this.nextLF = -1;
    let pos = 0;
    while (pos < len) {
      const next = this.scanRecord(buf, pos, len, final);
      if (next < 0) return pos;
      pos = next;
    }
    return pos;
  }

  /** One record from `pos`; returns the offset after it, or -1 when the buffer ends inside it. */
  private scanRecord(buf: Uint8Array, pos: number, len: number, final: boolean): number {
    const rec = this.record;
    rec.count = 0;
    rec.line = this.line;
    rec.errorField = -1;
    let lines = 0;
    let p = pos;
    for (;;) {
      if (rec.count === rec.starts.length) {
        if (rec.count >= this.maxFields) {
          throw new CsvScanError(`more than ${this.maxFields} fields in one record`, rec.line);
        }
        rec.grow();
      }
      const f = rec.count;
      if (p < len && buf[p] === QUOTE) {
        const s = p + 1;
        let q = s;
        let escaped = 0;
        for (;;) {
          // Native search: quoted fields hold most of a FOCUS row's bytes (descriptions, ids, tags).
          q = buf.indexOf(QUOTE, q);
          if (q < 0) {
            if (!final) return -1;
            rec.starts[f] = s;
            rec.ends[f] = len;
            rec.escaped[f] = 0;
            rec.quoted[f] = 1;
            rec.count++;
            this.fail(f, "unterminated quoted field");
            this.line += lines + countLines(buf, s, len);
            this.emit();
            return len;
          }
          if (q + 1 < len && buf[q + 1] === QUOTE) {
            escaped = 1;
            q += 2;
            continue;
          }
          if (q + 1 >= len && !final) return -1;
          break;
        }
        // Line breaks inside a quoted field are rare: count them only when the next one is before q.
        if (this.nextLF < s) this.nextLF = nextLineFeed(buf, s, len);
        if (this.nextLF < q) {
          lines += countLines(buf, s, q);
          this.nextLF = nextLineFeed(buf, q, len);
        }
        rec.starts[f] = s;
        rec.ends[f] = q;
        rec.escaped[f] = escaped;
        rec.quoted[f] = 1;
        rec.count++;
        p = q + 1;
        if (p >= len) return this.finish(lines, len);
        const c = buf[p];
        if (c === COMMA) {
          p++;
          continue;
        }
        if (c === LF) return this.finish(lines + 1, p + 1);
        if (c === CR && p + 1 < len && buf[p + 1] === LF) return this.finish(lines + 1, p + 2);
        if (c === CR && p + 1 >= len && !final) return -1;
        // Junk after a closing quote: report it and resynchronise at the end of the line.
        this.fail(f, "unexpected text after a closing quote");
        const nl = indexOfByte(buf, LF, p, len);
        if (nl < 0 && !final) return -1;
        return this.finish(lines + 1, nl < 0 ? len : nl + 1);
      }
      const s = p;
      while (p < len) {
        const c = buf[p]!;
        // One well-predicted test for ordinary bytes: every delimiter is at most a comma (44).
        if (c <= COMMA && (c === COMMA || c === LF || c === CR || c === QUOTE)) break;
        p++;
      }
      if (p >= len) {
        if (!final) return -1;
        rec.starts[f] = s;
        rec.ends[f] = p;
        rec.escaped[f] = 0;
        rec.quoted[f] = 0;
        rec.count++;
        return this.finish(lines, p);
      }
      const c = buf[p];
      rec.starts[f] = s;
      rec.ends[f] = p;
      rec.escaped[f] = 0;
      rec.quoted[f] = 0;
      rec.count++;
      if (c === COMMA) {
        p++;
        continue;
      }
      if (c === LF) return this.finish(lines + 1, p + 1);
      if (c === CR) {
        if (p + 1 < len && buf[p + 1] === LF) return this.finish(lines + 1, p + 2);
        if (p + 1 >= len && !final) return -1;
        return this.finish(lines + 1, p + 1);
      }
      // A quote inside an unquoted field.
      this.fail(f, "a quote inside an unquoted field");
      const nl = indexOfByte(buf, LF, p, len);
      if (nl < 0 && !final) return -1;
      return this.finish(lines + 1, nl < 0 ? len : nl + 1);
    }
  }

  private fail(field: number, message: string): void {
    if (this.record.errorField < 0) {
      this.record.errorField = field;
      this.record.errorMessage = message;
    }
  }

  private finish(lines: number, next: number): number {
    this.line += lines;
    this.emit();
    return next;
  }

  private emit(): void {
    const rec = this.record;
    // A blank line is no record.
    if (rec.count === 1 && rec.starts[0] === rec.ends[0] && rec.quoted[0] === 0 && rec.errorField < 0) return;
    this.onRecord(rec);
  }
}

function indexOfByte(buf: Uint8Array, byte: number, from: number, to: number): number {
  const i = buf.indexOf(byte, from);
  return i < 0 || i >= to ? -1 : i;
}

function nextLineFeed(buf: Uint8Array, from: number, len: number): number {
  const i = buf.indexOf(LF, from);
  return i < 0 ? len : i;
}

function countLines(buf: Uint8Array, from: number, to: number): number {
  let n = 0;
  let i = indexOfByte(buf, LF, from, to);
  while (i >= 0) {
    n++;
    i = indexOfByte(buf, LF, i + 1, to);
  }
  return n;
}
